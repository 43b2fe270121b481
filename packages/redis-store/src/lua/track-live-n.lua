--[=[
  Writes a batch of one site's events into its live state: the visitors' sessions (visits) and
  the per-minute structures of the live view. Sent in the same pipelined round trip as the
  bucket's track-batch call.

  Every key shares the site's live hash tag, so the script runs in one slot (Redis Cluster
  ready). None of these keys is flushed: each one expires (sessions after the idle time,
  per-minute keys after their retention).

  Why the visit counters are not written here: they belong in the minute bucket (they flow to the
  warehouse with the other counters), and the bucket lives in another slot. This script is where
  "is this hit the start of a visit?" is decided, atomically per session (GET + SET of one key
  inside one script), so exactly one hit of a visit ever sees it start and exactly one sees its
  second hit. It returns those transitions and the tracker writes the matching `visit` /
  `engaged_visit` counters with a second script call to the bucket, a second round trip only
  for the first and second hit of a visit. A tracker that dies between the two calls (and
  answers no request) leaves that visit uncounted; nothing is ever counted twice.

  Input (the key count varies):
    KEYS[1 .. 5M]    per distinct minute m of the batch, 5 keys at 5(m-1)+1..5m:
                     counts (hash), visitors (HyperLogLog), pages, referrers, events (sorted sets)
    KEYS[5M+1 ..]    one session key (string, JSON) per distinct visitor of the batch

  ARGV[1]  cap (members per sorted set and minute; past it, new members count as "(other)")
  ARGV[2]  session idle time (seconds)
  ARGV[3..6] expiry (seconds after the minute start) of the counts, visitors, pages/referrers
           and events keys
  ARGV[7]  the batch as JSON (one argument, so the client encodes one string): {
             "m": [[minute start in seconds, page views, events, [visitor ids]], …],
             "z": [[minute index 1..#m, set 3|4|5 = pages|referrers|events, member, count], …],
             "s": [[session KEYS index, counts KEYS index of the visitor's first hit,
                    entry page (the first hit's path), minute id of the first hit, hits], …]
           }

  Session value (a string, its TTL the idle time from the last hit): "E" once the visit has had
  two hits, before that "1<US><minute id of the first hit><US><entry page>" (US = \31, which a
  validated path never contains). A hit on an engaged visit costs one SET … EX … GET. A session
  of the first version (JSON {entry, hits, start}) is read once and replaced.

  Output: a flat list, 4 entries per transition:
    visitor index 1..V, kind (1 = visit started, 2 = visit got its second hit), start minute id,
    entry page
]=]
local cap = tonumber(ARGV[1])
local idle = tonumber(ARGV[2])
local ENGAGED = 'E'
local retention = { tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[5]), tonumber(ARGV[6]) }
local batch = cjson.decode(ARGV[7])

-- One ZINCRBY for a known member; a new member past the cap is taken back into "(other)".
local function zincr_capped(key, member, n)
  if tonumber(redis.call('ZINCRBY', key, n, member)) > n or redis.call('ZCARD', key) <= cap then return end
  redis.call('ZREM', key, member)
  redis.call('ZINCRBY', key, n, '(other)')
end

local expiries = {}
for m, minute in ipairs(batch.m) do
  local base = 5 * (m - 1)
  if minute[2] > 0 then redis.call('HINCRBY', KEYS[base + 1], 'pageviews', minute[2]) end
  redis.call('HINCRBY', KEYS[base + 1], 'events', minute[3])
  redis.call('PFADD', KEYS[base + 2], unpack(minute[4]))
  expiries[m] = minute[1]
end

for _, z in ipairs(batch.z) do
  zincr_capped(KEYS[5 * (z[1] - 1) + z[2]], z[3], z[4])
end

-- What a session's previous value says: hits before this batch (0 for none, 2 for "at least
-- two"), and for a visit with a single hit its first minute and entry page.
local function parse_session(old)
  if not old then return 0 end
  if old == ENGAGED then return 2 end
  local start, entry = string.match(old, '^1\31([^\31]*)\31(.*)$')
  if start then return 1, start, entry end
  local saved = cjson.decode(old) -- a session of the first version: JSON {entry, hits, start}
  return saved.hits, saved.start, saved.entry
end

local transitions = {}
local function transition(v, kind, start, entry)
  table.insert(transitions, v); table.insert(transitions, kind)
  table.insert(transitions, start); table.insert(transitions, entry)
end

for v, session in ipairs(batch.s) do
  local sessionKey, countsKey = KEYS[session[1]], KEYS[session[2]]
  local entry, start, hits = session[3], session[4], session[5]
  -- Most hits belong to a visit already engaged: this one command is all they cost.
  local before, savedStart, savedEntry = parse_session(redis.call('SET', sessionKey, ENGAGED, 'EX', idle, 'GET'))
  if before == 0 then
    redis.call('HINCRBY', countsKey, 'visits', 1)
    transition(v, 1, start, entry)
    if hits == 1 then
      redis.call('SET', sessionKey, '1\31' .. start .. '\31' .. entry, 'EX', idle)
    else
      transition(v, 2, start, entry)
    end
  elseif before == 1 then
    transition(v, 2, savedStart, savedEntry)
  end
end

-- Last, so that keys created above (sorted sets, the visits field) get their expiry too.
for m = 1, #batch.m do
  for i = 1, 5 do redis.call('EXPIREAT', KEYS[5 * (m - 1) + i], expiries[m] + retention[i]) end
end
return transitions
