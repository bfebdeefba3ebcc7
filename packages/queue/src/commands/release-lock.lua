--[[
  Releases a lock only for its owner (compare-and-delete, DESIGN.md invariant 4): a holder whose TTL lapsed must not
  free a lock that someone else now holds. The connection lock and the scheduler's leader lease both release with it.

  KEYS[1]  the lock
  ARGV[1]  the caller's owner token
  Returns  1 when the lock held that token and is now deleted; 0 when it held another or none (nothing changes)
]]
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
