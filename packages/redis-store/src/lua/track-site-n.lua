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

  Cost: this runs once per batch, and most of its time is per event, so the client does what it
  can: counters arrive summed and with their hash field already built, counts arrive as the
  strings Redis takes (a number passed to redis.call is formatted with printf, a string is not),
  and the sessions of a call are read with two HMGETs and written with one HSET.

  KEYS (offsets are 1-based positions given in ARGV, as noted):
    KEYS[1]       the site's pending index (sorted set: minute id → minute id)
    KEYS[2]       the call marker (string, expires after ARGV[3] seconds)
    per bucket, from its key offset k:
      k           generation ("<gen>:<token>"; absent: generation 0, created here)
      k+1         events counted in the generation (string)
      k+2…k+1+D   the D counter hashes of the generation (ARGV[18]), by dimension: total, page,
                  referrer, device, utm_source, utm_medium, utm_campaign, entry_page, then the
                  client's others (country, region, city, browser, os,
                  combination) (field "<event>\31<value>")
      k+2+D       engaged visits of visits that started in another minute (hash, field
                  "<start minute id>\31<entry page>"; the flusher loads them into their start minute)
      k+3+D       the site's HyperLogLog of the generation
      k+4+D       the "(other)" page HyperLogLog of the generation
      k+5+D…      per counter group of dimension 2 (page) in order: the page HyperLogLog of each
                  of its entries (for page views, where their combinations' visitors go when
                  those have no HyperLogLog), then, for an event other than page views, the event's
                  HyperLogLog (its visitors, for goals' unique converters); and per entry of
                  a group of dimension D (combination), its HyperLogLog (the visitors under
                  any filters; a custom event's, its converters per source and page), in the
                  order of the groups
    with the live state on, per bucket from its live offset l (the live minute is the bucket's):
      l..l+4      counts (hash: pageviews, events, visits), visitors (HyperLogLog),
                  pages, referrers, custom events (sorted sets)
    and from the live globals offset g:
      g, g+1      sessions created in this and the previous session window (strings)
      g+2         HyperLogLog of this window's visitors past the session cap
      g+3, g+4    sessions of this and the previous session window (hashes, see Visits)
      g+5         sessions of the window before those (unlinked: freed off the main thread)
      g+6         when the site's sessions moved into hashes (see Upgrade)
      then, when ARGV[17] is 1, one earlier-version session key per session of the call

  ARGV:
    1   max distinct fields per counter hash (the cardinality guard)
    2   token of a generation this call creates (unique)
    3   call marker expiry, seconds
    4   B: buckets in the call
    5   live state: 1 on, 0 off
    6   session idle time, seconds
    7   members per live sorted set and minute (past it, new ones count as "(other)")
    8   session cap: sessions a site may create per session window (past it: see below)
    9   live globals offset g in KEYS (0 when the live state is off)
    10..14  expiry after the minute start, seconds, of counts, visitors, pages, referrers, events
    15  S: sessions in the call
    16  the call's time: seconds since the epoch, 10 digits (the newest event's)
    17  1 when the call declares earlier-version session keys, else 0
    18  D: counter hashes per bucket (dimensions; entry_page is the 8th)
    then per bucket:
      minute id, minute start (seconds), generation expected, key offset k, live offset l,
      events, page views, E event names, G counter groups, V visitors, the index of the event
      "pageview" among the names (0: none),
      then E × (event name, count),
      then G × (event index 1..E, dimension 1..D, F, then F × (field "<event>\31<value>", count)
               and for dimension 2 of an event other than page views, the page, also after
               the count: count × the visitor id of each event; for dimension D, the
               combination, after the count: the 1-based position of its page among the
               event's page entries, then count × the visitor id of each event),
      then V distinct visitor ids (the site HyperLogLog and the live visitors); V = 0 means the
               visitors of the call's sessions (a call of one bucket with the live state on)
    then S × (visitor id, bucket 1..B of the visitor's first hit, entry page, hits)
  The live view's pages and referrers are the page views' page and referrer counters, and its
  custom events are the other event names: the script takes them from those sections.

  Visits: a session is a field of the session window's hash, named by the visitor id, whose
  value starts with the time of the visitor's last hit (10 digits of seconds): then "E" once the
  visit has had two hits, before that the minute id of the first hit (12 digits) and the entry
  page. A visit ends when the idle time passes without a hit: a visitor is looked up in this
  window's hash, then the previous one's (a window is as long as the idle time, so a hit within
  the idle time is in one of the two), and its session is written into this window's hash. The
  hit that starts a visit counts the event `visit` in its bucket, with dimensions total and
  entry_page; the visit's second hit counts `engaged_visit` in the minute the visit started: in
  that bucket's counters when it is the bucket of the visitor's first hit in this call, else in
  that bucket's engaged-visits hash, which names the start minute. Each visit is counted once,
  whatever the tracker does next.

  Upgrade: the version before this one kept a session as a string key per visitor. The first
  call after the upgrade notes the time in g+6 if that version created sessions in the last two
  windows (it counted them, but wrote no session hash), and "0" if not, both for the idle time;
  in that time a visitor found in no hash is looked up in its earlier-version key (which the
  client declares while the reply says so), so a visit in progress across the upgrade is not
  counted twice.

  Session cap: a site creates at most ARGV[8] sessions per window of the idle time (this window's
  count plus the previous one's). Past it a new visitor gets no session: its visits are estimated
  as the growth of the window's HyperLogLog of such visitors (one visit per distinct visitor and
  window, entry page "(other)", never engaged), so memory stays bounded under a flood.

  Past the guard, a new value is counted as "(other)" and its visitors go to the "(other)" page
  HyperLogLog (a page view combination's to its page's: filtered figures leave "(other)" out,
  a page's visitors do not); a new event name past the guard on the total hash becomes the
  event "(other)".

  Returns { 1, sessions capped, 1 while earlier-version sessions may exist else 0 } when written,
  { 2 } when the call marker says it was applied already, { 0, generation of bucket 1, …,
  generation of bucket B } when a generation moved on.
]=]
if redis.call('EXISTS', KEYS[2]) == 1 then return { 2 } end

local max, newToken = tonumber(ARGV[1]), ARGV[2]
local bucketCount, live = tonumber(ARGV[4]), ARGV[5] == '1'
local US = '\31'
local OTHER = '(other)'
local ENTRY_PAGE = 9 -- counter hash offset of entry_page from k
local D = tonumber(ARGV[18])
local DS = ARGV[18]
-- Counts are mostly 1: the string compare is cheaper than tonumber's strtod.
local function num(s) if s == '1' then return 1 end return tonumber(s) end

-- Pass 1: read the bucket headers, check every generation.
local buckets = {}
local at = 19
local moved = false
for b = 1, bucketCount do
  local h = {
    minute = ARGV[at], start = tonumber(ARGV[at + 1]), gen = ARGV[at + 2],
    k = tonumber(ARGV[at + 3]), l = tonumber(ARGV[at + 4]),
    events = tonumber(ARGV[at + 5]), pageviews = tonumber(ARGV[at + 6]),
    e = tonumber(ARGV[at + 7]), c = tonumber(ARGV[at + 8]), v = tonumber(ARGV[at + 9]),
    pv = tonumber(ARGV[at + 10]),
  }
  at = at + 11
  h.names = at
  at = at + 2 * h.e
  h.counters = at
  for _ = 1, h.c do
    local e, dim, f = tonumber(ARGV[at]), ARGV[at + 1], tonumber(ARGV[at + 2])
    -- Entries with visitor ids: other events' pages (field, count, ids) and every event's
    -- combinations (field, count, page entry, ids).
    local before = dim == '2' and e ~= h.pv and 2 or dim == DS and 3
    at = at + 3
    if before then
      for _ = 1, f do at = at + before + num(ARGV[at + 1]) end
    else
      at = at + 2 * f
    end
  end
  h.visitors = at
  at = at + h.v
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

-- Adds `n` (`ns` as a string) to `field`; a field that is new and takes the hash past `max` is
-- taken back and counted as `other` instead. One HINCRBY for a known value, a few commands more
-- for a new one. A hash with up to hash-max-listpack-entries fields (512 in the stock
-- redis.conf) is a listpack, where HINCRBY scans the fields one by one; past HASHTABLE_FROM
-- fields a counter hash gets one marker field longer than hash-max-listpack-value (64 by
-- default), which turns it into a hash table (O(1) HINCRBY) whatever the server's settings. The
-- marker is never a counter (counter fields start with an event name or a minute id) and the
-- flusher skips it.
-- A hash's fields are counted with HLEN once per call, at its first new field, and here after
-- that (every change to a counter hash in this script goes through count_guarded): a call of
-- new values (a minute's first pages, combinations past the guard) costs one HINCRBY each, not
-- three or four commands.
local HASHTABLE_FROM = 128
local MARKER, MARKER_VALUE = US .. 'hashtable', string.rep('-', 256)
local countersIn, marked = {}, {} -- per hash: counter fields (the marker not counted), marker set
local function count_guarded(key, field, other, n, ns)
  if redis.call('HINCRBY', key, field, ns) > n then return false end
  local fields = countersIn[key]
  if fields then fields = fields + 1 else fields = redis.call('HLEN', key) end
  if fields >= HASHTABLE_FROM and not marked[key] then
    marked[key] = true
    if redis.call('HSETNX', key, MARKER, MARKER_VALUE) == 0 then
      fields = fields - 1 -- the marker, set by an earlier call, is not a counter
    end
  end
  if fields <= max then
    countersIn[key] = fields
    return false
  end
  redis.call('HDEL', key, field)
  -- "(other)" is a new field when its count is this one.
  if redis.call('HINCRBY', key, other, ns) ~= n then fields = fields - 1 end
  countersIn[key] = fields
  return true
end

-- Visit counts found while reading the sessions, per bucket: visit and engaged_visit counted in
-- the bucket itself, by entry page, and engaged visits of earlier minutes, by start and entry.
local visits = {}
for b = 1, bucketCount do visits[b] = { visit = {}, engaged_visit = {}, earlier = {} } end
local function add(map, key, n) map[key] = (map[key] or 0) + n end

local capped = 0
local earlierVersion = 0
local ids = {} -- the visitor ids of the call's sessions
if live then
  local idle, cap, g = tonumber(ARGV[6]), tonumber(ARGV[8]), tonumber(ARGV[9])
  local nowText = ARGV[16]
  local now = tonumber(nowText)
  local sessionCount = tonumber(ARGV[15])
  local created = tonumber(redis.call('GET', KEYS[g]) or '0') + tonumber(redis.call('GET', KEYS[g + 1]) or '0')

  local movedAt = redis.call('GET', KEYS[g + 6])
  if not movedAt then
    -- The earlier version counted the sessions it created in the same keys, but kept no hash.
    local earlier = created > 0 and redis.call('EXISTS', KEYS[g + 3], KEYS[g + 4]) == 0
    movedAt = earlier and nowText or '0'
    redis.call('SET', KEYS[g + 6], movedAt, 'EX', idle + 60)
  end
  if now < tonumber(movedAt) + idle then earlierVersion = 1 end

  local s = sessionsAt
  for i = 1, sessionCount do ids[i] = ARGV[s + 4 * (i - 1)] end
  local found = {}
  if sessionCount > 0 then
    found = redis.call('HMGET', KEYS[g + 3], unpack(ids))
    local missing, where = {}, {}
    for i = 1, sessionCount do
      if not found[i] then
        missing[#missing + 1] = ids[i]
        where[#missing] = i
      end
    end
    if #missing > 0 then
      local previous = redis.call('HMGET', KEYS[g + 4], unpack(missing))
      for j = 1, #missing do found[where[j]] = previous[j] end
    end
    if ARGV[17] == '1' and earlierVersion == 1 then
      for i = 1, sessionCount do
        if not found[i] then
          -- "E", or "1\31<minute id>\31<entry page>"; it expired after the idle time.
          local old = redis.call('GET', KEYS[g + 6 + i])
          if old == 'E' then
            found[i] = nowText .. 'E'
          elseif old then
            local start, entry = string.match(old, '^1\31([^\31]*)\31(.*)$')
            if start then found[i] = nowText .. start .. entry end
          end
        end
      end
    end
  end

  local newSessions = 0
  local newPerBucket = {}
  local cappedIds = {}
  local cappedBucket
  local writes = {}
  for i = 1, sessionCount do
    local id, b, entry, hits = ARGV[s], tonumber(ARGV[s + 1]), ARGV[s + 2], ARGV[s + 3]
    s = s + 4
    local bucket = buckets[b]
    local old = found[i]
    if old and now - tonumber(string.sub(old, 1, 10)) >= idle then old = false end
    if old then
      if string.byte(old, 11) ~= 69 then -- not "E": this is the visit's second hit
        local start, savedEntry = string.sub(old, 11, 22), string.sub(old, 23)
        if start == bucket.minute then
          add(visits[b].engaged_visit, savedEntry, 1)
        else
          add(visits[b].earlier, start .. US .. savedEntry, 1)
        end
      end
      writes[#writes + 1] = id
      writes[#writes + 1] = nowText .. 'E'
    elseif created + newSessions >= cap then
      cappedIds[#cappedIds + 1] = id
      cappedBucket = cappedBucket or b
      capped = capped + 1
    else
      newSessions = newSessions + 1
      newPerBucket[b] = (newPerBucket[b] or 0) + 1
      add(visits[b].visit, entry, 1)
      writes[#writes + 1] = id
      if hits == '1' then
        writes[#writes + 1] = nowText .. bucket.minute .. entry
      else
        writes[#writes + 1] = nowText .. 'E'
        add(visits[b].engaged_visit, entry, 1)
      end
    end
  end
  if #writes > 0 then
    redis.call('HSET', KEYS[g + 3], unpack(writes))
    redis.call('EXPIRE', KEYS[g + 3], 2 * idle + 60)
  end
  redis.call('UNLINK', KEYS[g + 5])
  if newSessions > 0 then
    redis.call('INCRBY', KEYS[g], newSessions)
    redis.call('EXPIRE', KEYS[g], 2 * idle + 60)
    for b, n in pairs(newPerBucket) do redis.call('HINCRBY', KEYS[buckets[b].l], 'visits', n) end
  end
  if capped > 0 then
    local before = redis.call('PFCOUNT', KEYS[g + 2])
    redis.call('PFADD', KEYS[g + 2], unpack(cappedIds))
    redis.call('EXPIRE', KEYS[g + 2], 2 * idle + 60)
    local estimated = redis.call('PFCOUNT', KEYS[g + 2]) - before
    if estimated > 0 then
      add(visits[cappedBucket].visit, OTHER, estimated)
      redis.call('HINCRBY', KEYS[buckets[cappedBucket].l], 'visits', estimated)
    end
  end
end

-- One ZINCRBY for a known member; a new member past the cap is taken back into "(other)".
local liveCap = tonumber(ARGV[7])
-- A member is new when its score is the count: Redis formats whole scores as integers.
local function zincr_capped(key, member, ns)
  if redis.call('ZINCRBY', key, ns, member) ~= ns or redis.call('ZCARD', key) <= liveCap then return end
  redis.call('ZREM', key, member)
  redis.call('ZINCRBY', key, ns, OTHER)
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
      if count_guarded(KEYS[k + 2], event .. US, OTHER .. US, total, total) then names[event] = OTHER else names[event] = event end
    end
  end
  local anyEarlier = next(visits[b].earlier) ~= nil
  if events > 0 or #extra > 0 or anyEarlier then
    -- Events 0 (visit counts only) still create the event count, so a claim sees data.
    redis.call('INCRBY', KEYS[k + 1], events)
  end

  -- An event name past the guard is counted as "(other)": its fields are renamed. Names other
  -- than page views are the live view's custom events.
  local l = h.l
  local eventNames, renamed = {}, {}
  local a = h.names
  for e = 1, h.e do
    local name, ns = ARGV[a], ARGV[a + 1]
    local n = num(ns)
    if count_guarded(KEYS[k + 2], name .. US, OTHER .. US, n, ns) then renamed[e] = #name end
    if live and e ~= h.pv then zincr_capped(KEYS[l + 4], name, ns) end
    eventNames[e] = name
    a = a + 2
  end

  -- Other events' page entries carry their visitors: a page past the guard sends them to the
  -- "(other)" page HyperLogLog. Page views' visitors come with their combinations: each into
  -- the combination's HyperLogLog, and into its page's only when the combination has none (past
  -- the guard, or "(other)"), or into the "(other)" page's when the page is past the guard; the
  -- warehouse merges a page's sketch with its combinations'. Other events' combinations carry
  -- their visitors too, into the combination's HyperLogLog only (their pages have them).
  -- Page views' pages and referrers are the live view's.
  a = h.counters
  local otherPage = k + 4 + D
  local pageHll = otherPage
  local viewedPages = {} -- per page entry of page views: its HyperLogLog's key, or otherPage
  for _ = 1, h.c do
    local e, dim, f = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local key, name, cut = KEYS[k + 1 + dim], eventNames[e], renamed[e]
    local set = live and e == h.pv and (dim == 2 and KEYS[l + 2] or dim == 3 and KEYS[l + 3])
    local other = (cut and OTHER or name) .. US .. OTHER
    a = a + 3
    -- A custom event's visitors: the union of its page entries' (not for a name past the guard).
    local eventIds = dim == 2 and e ~= h.pv and not cut and {}
    local combinationIds = dim == D
    -- A hash at the guard (a site with more combinations a minute than the guard takes) would
    -- write each new value only to take it back: one HMGET tells which of the group's values it
    -- has, and once the hash is known full the others are summed into one "(other)" HINCRBY.
    local present, otherSum = nil, 0
    if dim ~= 2 and f > 1 and (countersIn[key] or redis.call('HLEN', key)) >= max then
      local fields, p = {}, a
      for i = 1, f do
        local field = ARGV[p]
        fields[i] = cut and OTHER .. string.sub(field, cut + 1) or field
        p = p + (combinationIds and 3 + num(ARGV[p + 1]) or 2)
      end
      present = redis.call('HMGET', key, unpack(fields))
    end
    for j = 1, f do
      local field, ns = ARGV[a], ARGV[a + 1]
      local n = num(ns)
      if set then zincr_capped(set, string.sub(field, #name + 2), ns) end
      if cut then field = OTHER .. string.sub(field, cut + 1) end
      local overflowed
      if present and present[j] then
        redis.call('HINCRBY', key, field, ns)
      elseif present and (countersIn[key] or 0) >= max then
        otherSum = otherSum + n
        overflowed = true
      else
        overflowed = count_guarded(key, field, other, n, ns)
      end
      if dim == 2 and e == h.pv then
        pageHll = pageHll + 1
        viewedPages[j] = overflowed and otherPage or pageHll
        a = a + 2
      elseif dim == 2 then
        pageHll = pageHll + 1
        redis.call('PFADD', KEYS[overflowed and otherPage or pageHll], unpack(ARGV, a + 2, a + 1 + n))
        if eventIds then for i = a + 2, a + 1 + n do eventIds[#eventIds + 1] = ARGV[i] end end
        a = a + 2 + n
      elseif combinationIds then
        pageHll = pageHll + 1
        local sketched = not (overflowed or cut) and string.sub(ARGV[a], #name + 2) ~= OTHER
        if sketched then redis.call('PFADD', KEYS[pageHll], unpack(ARGV, a + 3, a + 2 + n)) end
        local page = e == h.pv and viewedPages[tonumber(ARGV[a + 2])]
        if page and (page == otherPage or not sketched) then redis.call('PFADD', KEYS[page], unpack(ARGV, a + 3, a + 2 + n)) end
        a = a + 3 + n
      else
        a = a + 2
      end
    end
    if otherSum > 0 and redis.call('HINCRBY', key, other, otherSum) == otherSum then
      countersIn[key] = countersIn[key] + 1 -- "(other)" is new
    end
    if dim == 2 and e ~= h.pv then
      pageHll = pageHll + 1 -- the event's HyperLogLog
      if eventIds then redis.call('PFADD', KEYS[pageHll], unpack(eventIds)) end
    end
  end
  for _, x in ipairs(extra) do
    local name = names[x[1]]
    count_guarded(KEYS[k + ENTRY_PAGE], name .. US .. x[2], name .. US .. OTHER, x[3], x[3])
  end
  for field, n in pairs(visits[b].earlier) do
    count_guarded(KEYS[k + 2 + D], field, string.match(field, '^[^\31]*') .. US .. OTHER, n, n)
  end

  local visitorIds = h.v > 0 and { unpack(ARGV, h.visitors, h.visitors + h.v - 1) } or ids
  if #visitorIds > 0 then redis.call('PFADD', KEYS[k + 3 + D], unpack(visitorIds)) end

  if live then
    if h.pageviews > 0 then redis.call('HINCRBY', KEYS[l], 'pageviews', h.pageviews) end
    redis.call('HINCRBY', KEYS[l], 'events', events)
    if #visitorIds > 0 then redis.call('PFADD', KEYS[l + 1], unpack(visitorIds)) end
    -- Last, so that keys created above get their expiry too.
    for i = 0, 4 do redis.call('EXPIREAT', KEYS[l + i], h.start + tonumber(ARGV[10 + i])) end
  end
end
return { 1, capped, earlierVersion }
