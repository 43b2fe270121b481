--[=[
  Writes one batch of a site's events, atomically: the counters and HyperLogLogs of its (site,
  minute) buckets and, with the live state on, the visitors' sessions, the visit counts they
  decide, and the per-minute live view. The tracker gathers the events of the requests that
  arrive while its previous write is in flight and sends one call per site, with identical
  counters summed, so Redis sees one HINCRBY per distinct counter instead of one per event.

  Every key carries the site's hash tag, given as ARGV[1], so the call runs in one slot (Redis
  Cluster ready); KEYS[1], the site's pending index, routes it. The script builds the other
  names as keys.ts does:
    bucket      <tag>:<minute id>          + :gen, :n:<gen>, :u:<gen>, :c:<dimension>:<gen>,
                                             :up:<page digest>:<gen>
    pending     <tag>:pending              member and score: the minute id of a bucket with data
    session     <tag>:live:s:<visitor digest>
    live view   <tag>:live:<m|u|p|r|e>:<minute id>
  Bucket keys are written in the bucket's current generation (":<gen>" appended here), which is
  why a claim (an INCR of the generation) is O(1) and freezes the claimed generation.

  Input:
    KEYS[1]     the site's pending index (sorted set)
    ARGV[1]     the site's hash tag, "{<prefix>:<site>}"
    ARGV[2]     max distinct fields per counter hash (the cardinality guard)
    ARGV[3]     page digest of "(other)"
    ARGV[4]     the batch as JSON (one argument, so the client encodes one string): {
      "b": per minute of the batch: [minute id, events, [[event name, count], …],
             [[event index 1..#events, dimension index 2..7, value, count], …],
             [[event index, page digest, page, [visitor ids]], …]],
      "l": absent for counters only, else {
             "cap": members per live sorted set and minute (past it, new ones count as "(other)"),
             "idle": session idle time in seconds,
             "ttl": expiry in seconds after the minute start of counts, visitors, pages,
                    referrers and events,
             "m": per minute: [minute id, minute start in seconds, page views, events, [visitor ids]],
             "z": [[minute index 1..#m, set 3|4|5 = pages|referrers|events, member, count], …],
             "s": per visitor, in arrival order: [visitor digest, minute index of the first hit,
                  entry page (the first hit's path), hits] } }
    ARGV[5..12] the dimension names, by dimension index: total, page, referrer, device,
                utm_source, utm_medium, utm_campaign, entry_page
    ARGV[13..17] the live view's key suffixes: counts, visitors, pages, referrers, events

  Visits: a session is a string whose TTL is the idle time from the last hit: "E" once the visit
  has had two hits, before that "1<US><minute id of the first hit><US><entry page>" (US = \31,
  which a validated path never contains); a hit on an engaged visit costs one SET … EX … GET.
  The hit that starts a visit counts the event `visit`, and the visit's second hit the event
  `engaged_visit`, both in the bucket of the visit's first minute (dimensions total and
  entry_page), in this same call: exactly once each, whatever the tracker does next.

  Past the guard, a new value is counted as "(other)" and its visitors go to the "(other)" page
  HyperLogLog; a new event name past the guard on the total hash becomes the event "(other)".
]=]
local tag, max, otherDigest = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local batch = cjson.decode(ARGV[4])
local pending = KEYS[1]
local DIMENSIONS = { unpack(ARGV, 5, 12) }
local LIVE = { unpack(ARGV, 13, 17) }
local ENTRY_PAGE = 8

-- The batch's buckets by minute id; visit counts may add the bucket of an earlier minute.
local buckets = {}
for _, b in ipairs(batch.b) do buckets[b[1]] = b end
local visits = {}
local function count_visit(minute, event, entry)
  local byEvent = visits[minute]
  if not byEvent then byEvent = {}; visits[minute] = byEvent end
  local byEntry = byEvent[event]
  if not byEntry then byEntry = {}; byEvent[event] = byEntry end
  byEntry[entry] = (byEntry[entry] or 0) + 1
end

-- One ZINCRBY for a known member; a new member past the cap is taken back into "(other)".
local function zincr_capped(key, member, n, cap)
  if tonumber(redis.call('ZINCRBY', key, n, member)) > n or redis.call('ZCARD', key) <= cap then return end
  redis.call('ZREM', key, member)
  redis.call('ZINCRBY', key, n, '(other)')
end

-- What a session's previous value says: hits before this batch (0 for none, 2 for "at least
-- two"), and for a visit with a single hit its first minute and entry page.
local function parse_session(old)
  if not old then return 0 end
  local start, entry = string.match(old, '^1\31([^\31]*)\31(.*)$')
  if start then return 1, start, entry end
  return 2
end

local function track_live(live)
  local keys = {}
  for m, minute in ipairs(live.m) do
    local k = {}
    for i = 1, 5 do k[i] = tag .. ':live:' .. LIVE[i] .. ':' .. minute[1] end
    keys[m] = k
    if minute[3] > 0 then redis.call('HINCRBY', k[1], 'pageviews', minute[3]) end
    redis.call('HINCRBY', k[1], 'events', minute[4])
    redis.call('PFADD', k[2], unpack(minute[5]))
  end
  for _, z in ipairs(live.z) do zincr_capped(keys[z[1]][z[2]], z[3], z[4], live.cap) end

  for _, s in ipairs(live.s) do
    local key, m, entry, hits = tag .. ':live:s:' .. s[1], s[2], s[3], s[4]
    local start = live.m[m][1]
    -- Most hits belong to a visit already engaged: this one command is all they cost.
    local before, savedStart, savedEntry = parse_session(redis.call('SET', key, 'E', 'EX', live.idle, 'GET'))
    if before == 0 then
      redis.call('HINCRBY', keys[m][1], 'visits', 1)
      count_visit(start, 'visit', entry)
      if hits == 1 then
        redis.call('SET', key, '1\31' .. start .. '\31' .. entry, 'EX', live.idle)
      else
        count_visit(start, 'engaged_visit', entry)
      end
    elseif before == 1 then
      count_visit(savedStart, 'engaged_visit', savedEntry)
    end
  end

  -- Last, so that keys created above (sorted sets, the visits field) get their expiry too.
  for m, minute in ipairs(live.m) do
    for i = 1, 5 do redis.call('EXPIREAT', keys[m][i], minute[2] + live.ttl[i]) end
  end
end

-- A hash with up to hash-max-listpack-entries fields (512 in the stock redis.conf) is a
-- listpack, and HINCRBY on it scans the fields one by one: with 500 pages in a minute that was
-- 40 % of the bucket writes' time. Past HASHTABLE_FROM fields a counter hash gets one marker
-- field whose value is longer than hash-max-listpack-value (64 by default), which turns it into
-- a hash table (O(1) HINCRBY) whatever the server's listpack settings. The marker cannot be a
-- counter (counter fields start with an event name) and the flusher skips it.
local HASHTABLE_FROM = 128
local MARKER, MARKER_VALUE = '\31hashtable', string.rep('-', 256)

-- Adds `n` to `field`; a field that is new and takes the hash past `max` is taken back and
-- counted as `other` instead. One HINCRBY for a known value, two or three commands more for a
-- new one.
local function count_guarded(key, field, other, n)
  if redis.call('HINCRBY', key, field, n) > n then return false end
  local fields = redis.call('HLEN', key)
  if fields >= HASHTABLE_FROM and redis.call('HSETNX', key, MARKER, MARKER_VALUE) == 0 then
    fields = fields - 1 -- the marker, set by an earlier call, is not a counter
  end
  if fields <= max then return false end
  redis.call('HDEL', key, field)
  redis.call('HINCRBY', key, other, n)
  return true
end

-- Counts one bucket's part of the batch. Events 0 (visit counts only) still create the event
-- count key, so a claim sees that the generation holds data.
local function count_bucket(b)
  local minute, events, counters, pages = b[1], b[3], b[4], b[5]
  local base = tag .. ':' .. minute
  redis.call('ZADD', pending, 'NX', minute, minute)
  local sfx = ':' .. (redis.call('GET', base .. ':gen') or '0')
  redis.call('INCRBY', base .. ':n' .. sfx, b[2])

  local counterKeys = {}
  for i = 1, 8 do counterKeys[i] = base .. ':c:' .. DIMENSIONS[i] .. sfx end

  local names = {}
  for e, entry in ipairs(events) do
    local name = entry[1]
    if count_guarded(counterKeys[1], name .. '\31', '(other)\31', entry[2]) then name = '(other)' end
    names[e] = name
  end

  local overflowed = {}
  for _, c in ipairs(counters) do
    local e, dim, value = c[1], c[2], c[3]
    if count_guarded(counterKeys[dim], names[e] .. '\31' .. value, names[e] .. '\31(other)', c[4]) and dim == 2 then
      overflowed[e .. '\31' .. value] = true
    end
  end

  local siteVisitors = {}
  for _, v in ipairs(pages) do
    local e, digest, page, ids = v[1], v[2], v[3], v[4]
    for _, id in ipairs(ids) do siteVisitors[#siteVisitors + 1] = id end
    if overflowed[e .. '\31' .. page] then digest = otherDigest end
    redis.call('PFADD', base .. ':up:' .. digest .. sfx, unpack(ids))
  end
  if #siteVisitors > 0 then redis.call('PFADD', base .. ':u' .. sfx, unpack(siteVisitors)) end
end

if batch.l then track_live(batch.l) end

-- Visit counts join their minute's bucket (a bucket of its own when the visit started in a
-- minute this batch has no event of).
for minute, byEvent in pairs(visits) do
  local b = buckets[minute]
  if not b then
    b = { minute, 0, {}, {}, {} }
    buckets[minute] = b
    table.insert(batch.b, b)
  end
  for event, byEntry in pairs(byEvent) do
    local total = 0
    for _, n in pairs(byEntry) do total = total + n end
    table.insert(b[3], { event, total })
    for entry, n in pairs(byEntry) do table.insert(b[4], { #b[3], ENTRY_PAGE, entry, n }) end
  end
end

for _, b in ipairs(batch.b) do count_bucket(b) end
return #batch.b
