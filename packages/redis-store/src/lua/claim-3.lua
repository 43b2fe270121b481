--[[
  Claims the current generation of a (site, minute) bucket for flushing: from here on the
  tracker writes to the next generation, so late events of that minute start from zero and are
  flushed later as a further batch. O(1): nothing is copied or renamed.

  The batch id is "<prefix><generation>-<token>" with the token the generation got when it was
  created (stored in the generation key), so claiming the same generation twice (after Redis
  rolled back past a claim: a lost AOF second, a failover to a replica that missed it, a
  restored snapshot) gives the same batch id, which the warehouse's ledger has already loaded.
  A generation without a token (written before tokens) gets the random ARGV[3] instead.

  Input:
    KEYS[1]  generation              (string "<gen>:<token>" or "<gen>"; absent = 0)
    KEYS[2]  claims                  (hash: generation -> batch id)
    KEYS[3]  events of the generation the caller read as current (string)

    ARGV[1]  that generation
    ARGV[2]  batch id prefix         ("<site>/<minute>/")
    ARGV[3]  random suffix for a generation without a token
    ARGV[4]  token of the next generation (random)

  Output:
    { 1, generation, batch id }  claimed
    { 0 }                        the generation holds no event
    { -1, current generation }   the generation moved on since the caller read it
]]
local value = redis.call('GET', KEYS[1])
local gen = value and string.match(value, '^%d+') or '0'
if gen ~= ARGV[1] then return { -1, tonumber(gen) } end
if redis.call('EXISTS', KEYS[3]) == 0 then return { 0 } end
local token = value and string.match(value, '^%d+:(.+)$') or ARGV[3]
local batchId = ARGV[2] .. gen .. '-' .. token
redis.call('SET', KEYS[1], (tonumber(gen) + 1) .. ':' .. ARGV[4])
redis.call('HSET', KEYS[2], gen, batchId)
return { 1, tonumber(gen), batchId }
