--[[
  Extends a lock only for its owner (compare-and-expire): a holder whose TTL lapsed must not lengthen a lock that
  someone else now holds.

  KEYS[1]  the lock
  ARGV[1]  the caller's owner token
  ARGV[2]  the new time to live, in milliseconds from now
  Returns  1 when the lock held that token and now lives ARGV[2] ms; 0 when it held another or none (nothing changes)
]]
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
