--[[
  A provider's circuit breaker, one hash per provider, changed atomically on Redis's clock so every process agrees.
  The decisions (when to open, when a probe is due, the ramp) are @evergreen/core's; this script only keeps the counts
  and makes each transition happen once, for the one caller that gets 1 back.

  Fields: since (when the hash was made: gone after a flush), state ('open' or absent: closed), openedAt, why (JSON),
  nextProbeAt, closedAt, and per bucket of the window r:<bucket> (requests) and f:<bucket> (failures).

  KEYS[1]  the provider's breaker hash
  ARGV[1]  operation:
    'record' ARGV[2] bucket width ms, ARGV[3] window ms, ARGV[4] how many working answers, ARGV[5] how many
             failures (one answer recorded at once, or a process's batch of working answers with the failure that
             flushes it)
             Returns {state, requests, failures, fresh, now}: the window's counts after these, state 'open' or
             'closed', fresh 1 when the hash did not exist (first use, or Redis lost it)
    'open'   ARGV[2] probe interval ms, ARGV[3] why (JSON)
             Returns {1, now} when this call opened it (the first probe is due one interval later), {0, now} when it
             was open already
    'close'  Returns {1, openedAt, now} when this call closed it (the window's counts are cleared), {0, 0, now} when
             it was not open
    'probe'  ARGV[2] probe interval ms
             Returns {1, 0} when the caller may send: it took the probe slot (the next one is due one interval later),
             or the breaker is closed; {0, wait} when the slot is taken, with the milliseconds until the next one
]]
local op = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local isOpen = redis.call('HGET', KEYS[1], 'state') == 'open'

if op == 'record' then
  local bucketMs = tonumber(ARGV[2])
  local windowMs = tonumber(ARGV[3])
  local fresh = redis.call('HSETNX', KEYS[1], 'since', now)
  local bucket = math.floor(now / bucketMs)
  local working = tonumber(ARGV[4])
  local failed = tonumber(ARGV[5])
  redis.call('HINCRBY', KEYS[1], 'r:' .. bucket, working + failed)
  if failed > 0 then redis.call('HINCRBY', KEYS[1], 'f:' .. bucket, failed) end
  -- Whole buckets that lie entirely before the window drop out.
  local oldest = math.floor((now - windowMs) / bucketMs)
  local requests, failures = 0, 0
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    local kind, b = string.match(fields[i], '^([rf]):(%d+)$')
    if kind then
      if tonumber(b) <= oldest then
        redis.call('HDEL', KEYS[1], fields[i])
      elseif kind == 'r' then
        requests = requests + tonumber(fields[i + 1])
      else
        failures = failures + tonumber(fields[i + 1])
      end
    end
  end
  return {isOpen and 'open' or 'closed', requests, failures, fresh, now}
end

if op == 'open' then
  if isOpen then return {0, now} end
  redis.call('HSETNX', KEYS[1], 'since', now)
  redis.call('HSET', KEYS[1], 'state', 'open', 'openedAt', now, 'why', ARGV[3], 'nextProbeAt', now + tonumber(ARGV[2]))
  redis.call('HDEL', KEYS[1], 'closedAt')
  return {1, now}
end

if op == 'close' then
  if not isOpen then return {0, 0, now} end
  local openedAt = tonumber(redis.call('HGET', KEYS[1], 'openedAt')) or now
  local fields = redis.call('HKEYS', KEYS[1])
  for _, field in ipairs(fields) do
    if string.match(field, '^[rf]:') then redis.call('HDEL', KEYS[1], field) end
  end
  redis.call('HDEL', KEYS[1], 'state', 'openedAt', 'why', 'nextProbeAt')
  redis.call('HSET', KEYS[1], 'closedAt', now)
  return {1, openedAt, now}
end

if op == 'probe' then
  if not isOpen then return {1, 0} end
  local nextProbeAt = tonumber(redis.call('HGET', KEYS[1], 'nextProbeAt')) or 0
  if nextProbeAt > now then return {0, nextProbeAt - now} end
  redis.call('HSET', KEYS[1], 'nextProbeAt', now + tonumber(ARGV[2]))
  return {1, 0}
end

return redis.error_reply('provider-breaker.lua: unknown operation ' .. tostring(op))
