--[[
  Counts a batch of events of one (site, minute) bucket in its current generation. The tracker
  gathers the events that concurrent requests produce in one event-loop turn and aggregates
  them, so Redis sees one script call per bucket and turn, and one HINCRBY per distinct
  counter instead of one per event.

  Every key shares the bucket's hash tag, so the script runs in one slot (Redis Cluster ready).
  Keys arrive without their generation; the script appends ":<gen>" to each, which is why the
  claim (an INCR of the generation) is O(1) and freezes the claimed generation for the flusher.

  Input (the key count varies: 11 fixed keys plus one per distinct page of the batch):
    KEYS[1]   generation        (string, absent = 0)
    KEYS[2]   event count base  (string, INCRBY)
    KEYS[3]   site HyperLogLog base
    KEYS[4]   page HyperLogLog base for the page "(other)"
    KEYS[5..11] counter hash bases, by dimension index 1..7: total, page, referrer, device,
                utm_source, utm_medium, utm_campaign (fields "<event>\31<value>", values are counts)
    KEYS[12..] page HyperLogLog bases of the batch's pages

    ARGV, in four sections:
      1: max distinct fields per counter hash (the cardinality guard); events in the batch (N)
      2: E, then E × (event name, count)                       -> dimension "total"
      3: F, then F × (event index 1..E, dimension index 2..7, value, count)
      4: G, then G × (event index, KEYS index of the page's HyperLogLog, page, K, K visitor ids)

  Output:
    the generation written to (integer)

  Past the guard, a new value is counted as "(other)" and its visitors go to the "(other)" page
  HyperLogLog; a new event name past the guard on the total hash becomes the event "(other)".
]]
local gen = tonumber(redis.call('GET', KEYS[1]) or '0')
local sfx = ':' .. gen
local max = tonumber(ARGV[1])
redis.call('INCRBY', KEYS[2] .. sfx, tonumber(ARGV[2]))

local counterKeys = {}
for i = 1, 7 do counterKeys[i] = KEYS[4 + i] .. sfx end

-- Adds `n` to `field`; a field that is new and takes the hash past `max` is taken back and
-- counted as `other` instead. One HINCRBY for a known value, two commands more for a new one.
local function count_guarded(key, field, other, n)
  if redis.call('HINCRBY', key, field, n) > n or redis.call('HLEN', key) <= max then
    return false
  end
  redis.call('HDEL', key, field)
  redis.call('HINCRBY', key, other, n)
  return true
end

local at = 3
local names = {}
for e = 1, tonumber(ARGV[at]) do
  local name, n = ARGV[at + 1], tonumber(ARGV[at + 2])
  if count_guarded(counterKeys[1], name .. '\31', '(other)\31', n) then name = '(other)' end
  names[e] = name
  at = at + 2
end
at = at + 1

local overflowed = {}
for _ = 1, tonumber(ARGV[at]) do
  local e, dim, value, n = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), ARGV[at + 3], tonumber(ARGV[at + 4])
  if count_guarded(counterKeys[dim], names[e] .. '\31' .. value, names[e] .. '\31(other)', n) and dim == 2 then
    overflowed[e .. '\31' .. value] = true
  end
  at = at + 4
end
at = at + 1

local siteKey = KEYS[3] .. sfx
local otherKey = KEYS[4] .. sfx
for _ = 1, tonumber(ARGV[at]) do
  local e, keyIndex, page, k = ARGV[at + 1], tonumber(ARGV[at + 2]), ARGV[at + 3], tonumber(ARGV[at + 4])
  local visitors = { unpack(ARGV, at + 5, at + 4 + k) }
  redis.call('PFADD', siteKey, unpack(visitors))
  if overflowed[e .. '\31' .. page] then
    redis.call('PFADD', otherKey, unpack(visitors))
  else
    redis.call('PFADD', KEYS[keyIndex] .. sfx, unpack(visitors))
  end
  at = at + 4 + k
end
return gen
