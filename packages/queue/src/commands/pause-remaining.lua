--[[
  How long a provider's pause still holds: BullMQ keeps a queue's pause (`queue.rateLimit`, a 429's Retry-After) in the
  queue's limiter key, whose value also counts job starts for the limiter (expiring each second); a pause is a count
  at the limiter's max. One command for what a MULTI of GET and PTTL did in four, read right before each request.

  KEYS[1]  the queue's limiter key
  ARGV[1]  the limiter's max (PAUSE_ONLY_LIMITER.max)
  Returns  the pause's remaining milliseconds, or 0 when there is none
]]
local count = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if count < tonumber(ARGV[1]) then return 0 end
local ms = redis.call('PTTL', KEYS[1])
if ms < 0 then return 0 end
return ms
