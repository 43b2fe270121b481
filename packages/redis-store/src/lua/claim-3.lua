--[[
  Claims the current generation of a (site, minute) bucket for flushing: from here on the
  tracker writes to the next generation, so late events of that minute start from zero and are
  flushed later as a further batch. O(1): nothing is copied or renamed.

  Input:
    KEYS[1]  generation              (string, absent = 0)
    KEYS[2]  claims                  (hash: generation -> batch id)
    KEYS[3]  event count base        (the generation is appended)

    ARGV[1]  batch id prefix         ("<site>/<minute>/")
    ARGV[2]  batch id suffix         (random, so a bucket retired and written again gets new ids)

  Output:
    { generation, batch id } of the claim, or nil when the current generation holds no event
]]
local gen = tonumber(redis.call('GET', KEYS[1]) or '0')
if redis.call('EXISTS', KEYS[3] .. ':' .. gen) == 0 then
  return nil
end
local batchId = ARGV[1] .. gen .. '-' .. ARGV[2]
redis.call('SET', KEYS[1], gen + 1)
redis.call('HSET', KEYS[2], gen, batchId)
return { gen, batchId }
