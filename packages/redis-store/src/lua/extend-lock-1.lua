--[[
  Extends a lock only if this holder still owns it.

  Input:
    KEYS[1]  lock key
    ARGV[1]  holder token
    ARGV[2]  new time to live, milliseconds

  Output:
    1 extended, 0 not ours
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
