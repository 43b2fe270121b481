--[[
  Releases a lock only if this holder still owns it.

  Input:
    KEYS[1]  lock key
    ARGV[1]  holder token

  Output:
    1 released, 0 not ours (expired and taken by another holder, or gone)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
