--[[
  Forgets a bucket that holds nothing: no open claim and no event in its current generation.
  With the site's pending index given, the bucket also leaves it in this same call, so a write
  (which puts the bucket back into the index in its own atomic call) can never be left
  unindexed.

  Input:
    KEYS[1]  generation
    KEYS[2]  claims (hash)
    KEYS[3]  events of the generation the caller read as current (string)
    KEYS[4]  optional: the site's pending index (sorted set)

    ARGV[1]  that generation
    ARGV[2]  with KEYS[4]: the bucket's member in the index

  Output:
    1 when the bucket was empty and is forgotten, 0 when it still holds data, -1 when its
    generation moved on since the caller read it
]]
local value = redis.call('GET', KEYS[1])
if (value and string.match(value, '^%d+') or '0') ~= ARGV[1] then return -1 end
if redis.call('HLEN', KEYS[2]) > 0 or redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
end
redis.call('DEL', KEYS[1])
if KEYS[4] then redis.call('ZREM', KEYS[4], ARGV[2]) end
return 1
