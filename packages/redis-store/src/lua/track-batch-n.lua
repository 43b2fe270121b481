--[=[
  Counts a batch of events of one (site, minute) bucket in its current generation. The tracker
  gathers the events that concurrent requests produce in one event-loop turn and aggregates
  them, so Redis sees one script call per bucket and turn, and one HINCRBY per distinct
  counter instead of one per event.

  Every key shares the bucket's hash tag, so the script runs in one slot (Redis Cluster ready).
  Keys arrive without their generation; the script appends ":<gen>" to each, which is why the
  claim (an INCR of the generation) is O(1) and freezes the claimed generation for the flusher.

  Input (the key count varies: 12 fixed keys plus one per distinct page of the batch):
    KEYS[1]   generation        (string, absent = 0)
    KEYS[2]   event count base  (string, INCRBY)
    KEYS[3]   site HyperLogLog base
    KEYS[4]   page HyperLogLog base for the page "(other)"
    KEYS[5..12] counter hash bases, by dimension index 1..8: total, page, referrer, device,
                utm_source, utm_medium, utm_campaign, entry_page (fields "<event>\31<value>",
                values are counts)
    KEYS[13..] page HyperLogLog bases of the batch's pages

    ARGV[1]   max distinct fields per counter hash (the cardinality guard)
    ARGV[2]   the batch as JSON (one argument, so the client encodes one string rather than
              hundreds): {
                "n": events in the batch (0 for the derived visit counters, which still create
                     the count key so a claim sees the generation holds data),
                "e": [[event name, count], …]                          -> dimension "total",
                "c": [[event index 1..#e, dimension index 2..8, value, count], …],
                "v": [[event index, KEYS index of the page's HyperLogLog, page, [visitor ids]], …]
              }

  Output:
    the generation written to (integer)

  Past the guard, a new value is counted as "(other)" and its visitors go to the "(other)" page
  HyperLogLog; a new event name past the guard on the total hash becomes the event "(other)".
]=]
local gen = tonumber(redis.call('GET', KEYS[1]) or '0')
local sfx = ':' .. gen
local max = tonumber(ARGV[1])
local batch = cjson.decode(ARGV[2])
redis.call('INCRBY', KEYS[2] .. sfx, batch.n)

local counterKeys = {}
for i = 1, 8 do counterKeys[i] = KEYS[4 + i] .. sfx end

-- A hash with up to hash-max-listpack-entries fields (512 in the stock redis.conf) is a
-- listpack, and HINCRBY on it scans the fields one by one: with 500 pages in a minute that was
-- 40 % of this script's time. Past HASHTABLE_FROM fields a counter hash gets one marker field
-- whose value is longer than hash-max-listpack-value (64 by default), which turns it into a
-- hash table (O(1) HINCRBY) whatever the server's listpack settings. The marker cannot be a
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

local names = {}
for e, entry in ipairs(batch.e) do
  local name = entry[1]
  if count_guarded(counterKeys[1], name .. '\31', '(other)\31', entry[2]) then name = '(other)' end
  names[e] = name
end

local overflowed = {}
for _, c in ipairs(batch.c) do
  local e, dim, value = c[1], c[2], c[3]
  if count_guarded(counterKeys[dim], names[e] .. '\31' .. value, names[e] .. '\31(other)', c[4]) and dim == 2 then
    overflowed[e .. '\31' .. value] = true
  end
end

local siteVisitors = {}
local otherKey = KEYS[4] .. sfx
for _, v in ipairs(batch.v) do
  local e, keyIndex, page, ids = v[1], v[2], v[3], v[4]
  for _, id in ipairs(ids) do siteVisitors[#siteVisitors + 1] = id end
  if overflowed[e .. '\31' .. page] then
    redis.call('PFADD', otherKey, unpack(ids))
  else
    redis.call('PFADD', KEYS[keyIndex] .. sfx, unpack(ids))
  end
end
if #siteVisitors > 0 then redis.call('PFADD', KEYS[3] .. sfx, unpack(siteVisitors)) end
return gen
