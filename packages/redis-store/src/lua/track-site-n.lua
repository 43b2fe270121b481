--[=[
  Writes one batch of a site's events, atomically: the counters and HyperLogLogs of its (site,
  minute) buckets and, with the live state on, the visitors' sessions, the visit counts they
  decide, and the per-minute live view. The tracker gathers the events of the requests that
  arrive while its previous write is in flight and sends one call per site, with identical
  counters summed, so Redis sees one HINCRBY per distinct counter instead of one per event.

  Every key it touches is in KEYS (all in the site's hash tag, so one slot): on Redis Cluster a
  slot that is migrating answers ASK or TRYAGAIN before the script runs, never halfway through.
  The script builds no key name. It checks everything before its first write:
    1. the call marker: a call already applied (a retry after a lost reply) writes nothing again;
    2. each bucket's generation: the client names the generation it believes current (it built
       the generation's key names); when a claim has moved it on, the script writes nothing and
       returns the current generations, and the client calls again with their keys.
  Then it writes. Redis refuses the first write of a script when it is out of memory, and the
  keys are all local, so a call that passed its checks writes everything.

  KEYS (offsets are 1-based positions given in ARGV, as noted):
    KEYS[1]       the site's pending index (sorted set: minute id → minute id)
    KEYS[2]       the call marker (string, expires after ARGV[3] seconds)
    per bucket, from its key offset k:
      k           generation ("<gen>:<token>"; absent: generation 0, created here)
      k+1         events counted in the generation (string)
      k+2..k+9    counter hashes of the generation, by dimension: total, page, referrer, device,
                  utm_source, utm_medium, utm_campaign, entry_page
                  (field "<event>\31<value>")
      k+10        engaged visits of visits that started in another minute (hash, field
                  "<start minute id>\31<entry page>"; the flusher loads them into their start minute)
      k+11        the site's HyperLogLog of the generation
      k+12        the "(other)" page HyperLogLog of the generation
      then the bucket's page HyperLogLogs (offsets given per page group)
    with the live state on, per bucket from its live offset l (the live minute is the bucket's):
      l..l+4      counts (hash: pageviews, events, visits), visitors (HyperLogLog),
                  pages, referrers, custom events (sorted sets)
    and from the live globals offset g:
      g, g+1      sessions created in this and the previous session window (strings)
      g+2         HyperLogLog of this window's visitors past the session cap
    then one session key per visitor (offsets given per session)

  ARGV:
    1   max distinct fields per counter hash (the cardinality guard)
    2   token of a generation this call creates (random)
    3   call marker expiry, seconds
    4   B: buckets in the call
    5   live state: 1 on, 0 off
    6   session idle time, seconds
    7   members per live sorted set and minute (past it, new ones count as "(other)")
    8   session cap: sessions a site may create per session window (past it: see below)
    9   live globals offset g in KEYS (0 when the live state is off)
    10..14  expiry after the minute start, seconds, of counts, visitors, pages, referrers, events
    15  S: sessions in the call
    then per bucket:
      minute id, minute start (seconds), generation expected, key offset k, live offset l,
      events, page views, E event names, C counters, P page groups, V visitors, Z live members,
      then E × (event name, count),
      then C × (event index 1..E, dimension 1..8, value, count),
      then P × (event index, page, HyperLogLog key offset, N, N visitor ids),
      then V distinct visitor ids (the site HyperLogLog and the live visitors),
      then Z × (set 3|4|5 = pages|referrers|events, member, count)
    then S × (session key offset, bucket 1..B of the visitor's first hit, entry page, hits)

  Visits: a session is a string whose TTL is the idle time from the last hit: "E" once the visit
  has had two hits, before that "1\31<minute id of the first hit>\31<entry page>" (a validated
  path never holds \31). The hit that starts a visit counts the event `visit` in its bucket, with
  dimensions total and entry_page; the visit's second hit counts `engaged_visit` in the minute the
  visit started: in that bucket's counters when it is the bucket of the visitor's first hit in
  this call, else in that bucket's engaged-visits hash, which names the start minute. Each visit
  is counted once, whatever the tracker does next.

  Session cap: a site creates at most ARGV[8] sessions per window of the idle time (this window's
  count plus the previous one's). Past it a new visitor gets no session key: its visits are
  estimated as the growth of the window's HyperLogLog of such visitors (one visit per distinct
  visitor and window, entry page "(other)", never engaged), so memory stays bounded under a flood.

  Past the guard, a new value is counted as "(other)" and its visitors go to the "(other)" page
  HyperLogLog; a new event name past the guard on the total hash becomes the event "(other)".

  Returns { 1, sessions capped } when written, { 2 } when the call marker says it was applied
  already, { 0, generation of bucket 1, …, generation of bucket B } when a generation moved on.
]=]
if redis.call('EXISTS', KEYS[2]) == 1 then return { 2 } end

local max, newToken = tonumber(ARGV[1]), ARGV[2]
local bucketCount, live = tonumber(ARGV[4]), ARGV[5] == '1'
local US = '\31'
local OTHER = '(other)'
local TOTAL, ENTRY_PAGE = 0, 7 -- counter hash offsets from k+2

-- Pass 1: read the bucket headers, check every generation.
local buckets = {}
local at = 16
local moved = false
for b = 1, bucketCount do
  local h = {
    minute = ARGV[at], start = tonumber(ARGV[at + 1]), gen = ARGV[at + 2],
    k = tonumber(ARGV[at + 3]), l = tonumber(ARGV[at + 4]),
    events = tonumber(ARGV[at + 5]), pageviews = tonumber(ARGV[at + 6]),
    e = tonumber(ARGV[at + 7]), c = tonumber(ARGV[at + 8]), p = tonumber(ARGV[at + 9]),
    v = tonumber(ARGV[at + 10]), z = tonumber(ARGV[at + 11]),
  }
  at = at + 12
  h.names = at
  at = at + 2 * h.e
  h.counters = at
  at = at + 4 * h.c
  h.pages = at
  for _ = 1, h.p do at = at + 4 + tonumber(ARGV[at + 3]) end
  h.visitors = at
  at = at + h.v
  h.members = at
  at = at + 3 * h.z
  local current = redis.call('GET', KEYS[h.k])
  h.fresh = not current
  h.current = current and string.match(current, '^%d+') or '0'
  if h.current ~= h.gen then moved = true end
  buckets[b] = h
end
if moved then
  local gens = { 0 }
  for b = 1, bucketCount do gens[b + 1] = tonumber(buckets[b].current) end
  return gens
end
local sessionsAt = at

-- Every check passed: from here on the call writes.
redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])

-- Adds `n` to `field`; a field that is new and takes the hash past `max` is taken back and
-- counted as `other` instead. One HINCRBY for a known value, a few commands more for a new one.
-- A hash with up to hash-max-listpack-entries fields (512 in the stock redis.conf) is a listpack,
-- where HINCRBY scans the fields one by one; past HASHTABLE_FROM fields a counter hash gets one
-- marker field longer than hash-max-listpack-value (64 by default), which turns it into a hash
-- table (O(1) HINCRBY) whatever the server's settings. The marker is never a counter (counter
-- fields start with an event name or a minute id) and the flusher skips it.
local HASHTABLE_FROM = 128
local MARKER, MARKER_VALUE = US .. 'hashtable', string.rep('-', 256)
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

-- Visit counts found while reading the sessions, per bucket: visit and engaged_visit counted in
-- the bucket itself, by entry page, and engaged visits of earlier minutes, by start and entry.
local visits = {}
for b = 1, bucketCount do visits[b] = { visit = {}, engaged_visit = {}, earlier = {} } end
local function add(map, key, n) map[key] = (map[key] or 0) + n end

local capped = 0
if live then
  local idle, cap, g = ARGV[6], tonumber(ARGV[8]), tonumber(ARGV[9])
  local created = tonumber(redis.call('GET', KEYS[g]) or '0') + tonumber(redis.call('GET', KEYS[g + 1]) or '0')
  local newSessions = 0
  local cappedIds = {}
  local cappedBucket
  local s = sessionsAt
  for _ = 1, tonumber(ARGV[15]) do
    local key, b, entry, hits = KEYS[tonumber(ARGV[s])], tonumber(ARGV[s + 1]), ARGV[s + 2], tonumber(ARGV[s + 3])
    s = s + 4
    local bucket = buckets[b]
    -- A known visitor's session becomes (or stays) "E" with a fresh expiry in one command: most
    -- hits belong to a visit already engaged, and this is all they cost.
    local old = redis.call('SET', key, 'E', 'XX', 'EX', idle, 'GET')
    if old == 'E' then
      -- engaged already
    elseif old then
      local start, savedEntry = string.match(old, '^1\31([^\31]*)\31(.*)$')
      if start == bucket.minute then
        add(visits[b].engaged_visit, savedEntry, 1)
      else
        add(visits[b].earlier, start .. US .. savedEntry, 1)
      end
    elseif created + newSessions >= cap then
      cappedIds[#cappedIds + 1] = key
      cappedBucket = cappedBucket or b
      capped = capped + 1
    else
      newSessions = newSessions + 1
      add(visits[b].visit, entry, 1)
      redis.call('HINCRBY', KEYS[bucket.l], 'visits', 1)
      if hits == 1 then
        redis.call('SET', key, '1' .. US .. bucket.minute .. US .. entry, 'EX', idle)
      else
        redis.call('SET', key, 'E', 'EX', idle)
        add(visits[b].engaged_visit, entry, 1)
      end
    end
  end
  if newSessions > 0 then
    redis.call('INCRBY', KEYS[g], newSessions)
    redis.call('EXPIRE', KEYS[g], 2 * tonumber(idle) + 60)
  end
  if capped > 0 then
    -- The session keys' names stand in for the visitors: they are digests of the visitor ids.
    local before = redis.call('PFCOUNT', KEYS[g + 2])
    redis.call('PFADD', KEYS[g + 2], unpack(cappedIds))
    redis.call('EXPIRE', KEYS[g + 2], 2 * tonumber(idle) + 60)
    local estimated = redis.call('PFCOUNT', KEYS[g + 2]) - before
    if estimated > 0 then
      add(visits[cappedBucket].visit, OTHER, estimated)
      redis.call('HINCRBY', KEYS[buckets[cappedBucket].l], 'visits', estimated)
    end
  end
end

-- One ZINCRBY for a known member; a new member past the cap is taken back into "(other)".
local liveCap = tonumber(ARGV[7])
local function zincr_capped(key, member, n)
  if tonumber(redis.call('ZINCRBY', key, n, member)) > n or redis.call('ZCARD', key) <= liveCap then return end
  redis.call('ZREM', key, member)
  redis.call('ZINCRBY', key, n, OTHER)
end

for b = 1, bucketCount do
  local h = buckets[b]
  local k = h.k
  local gen = h.gen
  if h.fresh then redis.call('SET', KEYS[k], gen .. ':' .. newToken) end
  redis.call('ZADD', KEYS[1], 'NX', h.minute, h.minute)

  -- Visit counts join the bucket's event names and counters.
  local names, events = {}, h.events
  local extra = {}
  for _, event in ipairs({ 'visit', 'engaged_visit' }) do
    local total = 0
    for entry, n in pairs(visits[b][event]) do
      total = total + n
      extra[#extra + 1] = { event, entry, n }
    end
    if total > 0 then
      if count_guarded(KEYS[k + 2], event .. US, OTHER .. US, total) then names[event] = OTHER else names[event] = event end
    end
  end
  local anyEarlier = next(visits[b].earlier) ~= nil
  if events > 0 or #extra > 0 or anyEarlier then
    -- Events 0 (visit counts only) still create the event count, so a claim sees data.
    redis.call('INCRBY', KEYS[k + 1], events)
  end

  local eventNames = {}
  local a = h.names
  for e = 1, h.e do
    local name = ARGV[a]
    if count_guarded(KEYS[k + 2], name .. US, OTHER .. US, tonumber(ARGV[a + 1])) then name = OTHER end
    eventNames[e] = name
    a = a + 2
  end

  local overflowed = {}
  a = h.counters
  for _ = 1, h.c do
    local e, dim, value, n = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2], tonumber(ARGV[a + 3])
    local name = eventNames[e]
    if count_guarded(KEYS[k + 1 + dim], name .. US .. value, name .. US .. OTHER, n) and dim == 2 then
      overflowed[e .. US .. value] = true
    end
    a = a + 4
  end
  for _, x in ipairs(extra) do
    local name = names[x[1]]
    count_guarded(KEYS[k + 2 + ENTRY_PAGE], name .. US .. x[2], name .. US .. OTHER, x[3])
  end
  for field, n in pairs(visits[b].earlier) do
    count_guarded(KEYS[k + 10], field, string.match(field, '^[^\31]*') .. US .. OTHER, n)
  end

  a = h.pages
  for _ = 1, h.p do
    local e, page, key, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    if overflowed[e .. US .. page] then key = k + 12 end
    redis.call('PFADD', KEYS[key], unpack(ARGV, a + 4, a + 3 + n))
    a = a + 4 + n
  end
  if h.v > 0 then redis.call('PFADD', KEYS[k + 11], unpack(ARGV, h.visitors, h.visitors + h.v - 1)) end

  if live then
    local l = h.l
    if h.pageviews > 0 then redis.call('HINCRBY', KEYS[l], 'pageviews', h.pageviews) end
    redis.call('HINCRBY', KEYS[l], 'events', events)
    if h.v > 0 then redis.call('PFADD', KEYS[l + 1], unpack(ARGV, h.visitors, h.visitors + h.v - 1)) end
    a = h.members
    for _ = 1, h.z do
      zincr_capped(KEYS[l - 1 + tonumber(ARGV[a])], ARGV[a + 1], tonumber(ARGV[a + 2]))
      a = a + 3
    end
    -- Last, so that keys created above get their expiry too.
    for i = 0, 4 do redis.call('EXPIREAT', KEYS[l + i], h.start + tonumber(ARGV[10 + i])) end
  end
end
return { 1, capped }
