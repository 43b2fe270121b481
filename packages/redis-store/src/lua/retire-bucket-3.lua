--[[
  Forgets a bucket that holds nothing: no open claim and no event in its current generation.

  Input:
    KEYS[1]  generation
    KEYS[2]  claims (hash)
    KEYS[3]  event count base (the generation is appended)

  Output:
    1 when the bucket was empty and its generation key is deleted, 0 when it still holds data
]]
local gen = tonumber(redis.call('GET', KEYS[1]) or '0')
if redis.call('HLEN', KEYS[2]) > 0 or redis.call('EXISTS', KEYS[3] .. ':' .. gen) == 1 then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
