--[[
  Counts one event in the current generation of its (site, minute) bucket.

  Every key shares the bucket's hash tag, so the script runs in one slot (Redis Cluster ready).
  Keys arrive without their generation; the script appends ":<gen>" to each, which is why the
  claim (an INCR of the generation) is O(1) and freezes the claimed generation for the flusher.

  Input:
    KEYS[1]  generation        (string, absent = 0)
    KEYS[2]  event count base  (string, INCR)
    KEYS[3]  site HyperLogLog base
    KEYS[4]  page HyperLogLog base, for this event's page
    KEYS[5]  page HyperLogLog base, for the page "(other)"
    KEYS[6..12] counter hash bases: total, page, referrer, device, utm_source, utm_medium, utm_campaign
                (fields "<event>\31<value>", values are counts)

    ARGV[1]  max distinct fields per counter hash (the cardinality guard)
    ARGV[2]  event name
    ARGV[3]  visitor id
    ARGV[4..10] values for KEYS[6..12]; '' for total, and '' means "absent" for the others

  Output:
    the generation written to (integer)

  Past the guard, a new value is counted as "(other)"; a new event name past the guard on the
  total hash is counted as the event "(other)".
]]
local gen = tonumber(redis.call('GET', KEYS[1]) or '0')
local sfx = ':' .. gen
local max = tonumber(ARGV[1])
local event = ARGV[2]

local function guarded(key, field, other)
  if redis.call('HEXISTS', key, field) == 1 or redis.call('HLEN', key) < max then
    return field, false
  end
  return other, true
end

redis.call('INCR', KEYS[2] .. sfx)

local totalKey = KEYS[6] .. sfx
local totalField = guarded(totalKey, event .. '\31', '(other)\31')
if totalField == '(other)\31' then event = '(other)' end
redis.call('HINCRBY', totalKey, totalField, 1)

local pageHll = KEYS[4]
for i = 2, 7 do
  local value = ARGV[3 + i]
  if value ~= '' then
    local key = KEYS[5 + i] .. sfx
    local field, overflow = guarded(key, event .. '\31' .. value, event .. '\31(other)')
    if overflow and i == 2 then pageHll = KEYS[5] end
    redis.call('HINCRBY', key, field, 1)
  end
end

redis.call('PFADD', KEYS[3] .. sfx, ARGV[3])
redis.call('PFADD', pageHll .. sfx, ARGV[3])
return gen
