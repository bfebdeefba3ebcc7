--[[
  Takes a slot in a provider's sliding-window log for one request about to leave, on Redis's clock so that every
  process agrees. The log is a sorted set of the window's requests, scored by the millisecond Redis granted them.

  A log Redis lost (a flush, a restart that dropped its last writes) forgot requests the provider still counts. The
  caller names its own last slot: when that slot is still inside the window but missing from the log, the log was
  lost, and the window is filled up and taken as full for one duration.

  KEYS[1]  the provider's log
  ARGV[1]  how many requests a window allows
  ARGV[2]  the window, in milliseconds
  ARGV[3]  a random member for this request
  ARGV[4]  the caller's last granted member for this provider, or '' when it has none
  ARGV[5]  when that member was granted (ms, Redis's clock), or 0
  Returns  {wait, now}: wait 0 when the slot is taken (ARGV[3] is in the log), else the milliseconds until one frees
           up; now is Redis's clock in milliseconds
]]
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local max = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs - duration)
if ARGV[4] ~= '' and tonumber(ARGV[5]) > nowMs - duration and not redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  local card = redis.call('ZCARD', KEYS[1])
  for i = card + 1, max do
    redis.call('ZADD', KEYS[1], nowMs, 'lost:' .. nowMs .. ':' .. i)
  end
  redis.call('PEXPIRE', KEYS[1], duration)
  return {duration, nowMs}
end
if redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], nowMs, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], duration)
  return {0, nowMs}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {math.max(1, tonumber(oldest[2]) + duration - nowMs + 1), nowMs}
