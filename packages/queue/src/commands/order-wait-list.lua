--[[
  Puts a provider queue's waiting jobs in the given order, atomically: BullMQ's workers take jobs from the wait list's
  right end, so the first id given becomes the next job taken. Ids no longer waiting are skipped; jobs waiting that
  were not given (promoted since the caller read the list) keep their relative order behind the given ones.

  KEYS[1]  the queue's wait list (BullMQ's `wait` key of one provider's queue)
  ARGV[1] and on: job ids, the first to run first
  Returns  how many of the given ids were waiting and are now in order
]]
local current = redis.call('LRANGE', KEYS[1], 0, -1)
local waiting = {}
for _, id in ipairs(current) do waiting[id] = true end
local ordered = {}
local placed = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  if waiting[id] and not placed[id] then
    placed[id] = true
    ordered[#ordered + 1] = id
  end
end
if #ordered == 0 then return 0 end
local rebuilt = {}
for _, id in ipairs(current) do
  if not placed[id] then rebuilt[#rebuilt + 1] = id end
end
for i = #ordered, 1, -1 do rebuilt[#rebuilt + 1] = ordered[i] end
redis.call('DEL', KEYS[1])
for i = 1, #rebuilt, 5000 do
  redis.call('RPUSH', KEYS[1], unpack(rebuilt, i, math.min(i + 4999, #rebuilt)))
end
return #ordered
