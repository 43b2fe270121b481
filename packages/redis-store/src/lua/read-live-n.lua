--[[
  Reads a site's live view in one call: every key shares the site's live hash tag (one slot).
  Missing keys (quiet or expired minutes) read as empty.

  Input (the key count varies; each group newest minute first):
    KEYS[1 .. A]          visitor HyperLogLogs of the last A minutes ("visitors right now")
    KEYS[A+1 .. A+B]      visitor HyperLogLogs of the last B minutes (visits in progress: a
                          visitor seen within the idle time has exactly one open visit)
    then C counts hashes, D page sets, D referrer sets, F custom event sets
    KEYS[last]            scratch key for the unions (deleted before the script returns)

  ARGV: A, B, C, D, F, top (members per top list)

  Output:
    { PFCOUNT of group A, PFCOUNT of group B,
      C × { pageviews, visits, events } (flat, 3 per minute, newest first),
      top pages, top referrers, top custom events: each a flat list of member, score }
]]
local a, b, c, d, f, top = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local scratch = KEYS[#KEYS]

local now = redis.call('PFCOUNT', unpack(KEYS, 1, a))
local inProgress = redis.call('PFCOUNT', unpack(KEYS, a + 1, a + b))

local at = a + b
local perMinute = {}
for i = 1, c do
  local values = redis.call('HMGET', KEYS[at + i], 'pageviews', 'visits', 'events')
  for j = 1, 3 do table.insert(perMinute, tonumber(values[j] or '0')) end
end
at = at + c

local function topOf(first, count)
  redis.call('ZUNIONSTORE', scratch, count, unpack(KEYS, first, first + count - 1))
  local members = redis.call('ZREVRANGE', scratch, 0, top - 1, 'WITHSCORES')
  redis.call('DEL', scratch)
  return members
end

local pages = topOf(at + 1, d)
local referrers = topOf(at + d + 1, d)
local events = topOf(at + 2 * d + 1, f)
return { now, inProgress, perMinute, pages, referrers, events }
