import { LUA_TIME_MS, luaScript } from './lua-script.js';
import { READERS_MARKER } from './keys.js';
import { QUEUE_LUA } from './wait-queue-scripts.js';

/**
 * Lua shared by the read scripts: readers are entries of a sorted set beside the resource
 * (`<resource>:redlock:readers`), each scored by the node time at which it lapses, and while
 * any is live the resource's key holds the marker (`READERS_MARKER`), set to lapse with the
 * latest of them. A writer is a plain holder of the key (the mutex), so the marker keeps every
 * writer's SET NX and queued attempt off it, with no change to the writer's scripts.
 */
const READ_LUA = `${QUEUE_LUA}-- The latest live reader's end (node ms), or nil if none is live (entries are scored by their
-- end, so the last one is live if any is).
local function readers_end(readers, now)
  local last = tonumber(redis.call('zrange', readers, -1, -1, 'WITHSCORES')[2])
  if last and last > now then return last end
  return nil
end
-- Makes the marker, and the set, lapse with the latest live reader (one ms after it: the key's
-- expiry is reckoned from the script's start, a little before this clock was read). Shortens
-- them too, once longer readers left. With no live reader left, deletes the set, and the
-- marker when the key holds it (holds_marker): answers whether any reader is left.
local function cover_readers(resource, readers, now, holds_marker)
  local last = readers_end(readers, now)
  if not last then
    if holds_marker then
      redis.call('del', resource)
    end
    redis.call('del', readers)
    return false
  end
  local life = last - now + 1
  redis.call('set', resource, READERS_MARKER, 'PX', life)
  redis.call('pexpire', readers, life)
  return true
end
-- Makes the key a readers' key where it holds a reader's value (handed to it by a release, or
-- to an entry it left in the queue while it held the lock elsewhere): that reader becomes an
-- entry with the key's remaining life.
local function reader_key_to_marker(resource, readers, current, now)
  local remaining = redis.call('pttl', resource)
  if remaining > 0 then
    redis.call('zadd', readers, now + remaining, current)
  end
  cover_readers(resource, readers, now, false)
end
`;

/**
 * Acquire a read lock on one resource, in queue order. Renews (grants) a reader that holds the
 * node already: the key was handed to it, or it has a live entry (as the mutex renews a key
 * that holds its value). Grants a new reader (adds it, and sets the marker to cover it) when
 * the key is free, held by readers, or holds another reader's value (made a readers' key
 * first), and no live writer waits ahead of it (anywhere in the queue, for a newcomer):
 * readers share, and a waiting writer is not overtaken. A grant to a reader that held the node
 * already, or that found a lapsed writer ahead, tells the readers queued at the head to take
 * theirs. Otherwise joins the queue (or renews the
 * entry) and answers `{held, now}`, as the queued acquire does. Answers 0 on a grant, and on a
 * semaphore's key `{'kind', 'semaphore:<limit>'}`.
 *
 * KEYS: the resource, its waiters, its waiter deadlines, its readers.
 * ARGV: as the queued acquire: the reader's value, ttl, member, priority, join ('1' or '0').
 */
export const QUEUED_READ_ACQUIRE_SCRIPT = luaScript(
  'queued read acquire',
  // A free key with no queue and no readers' set, before the shared Lua is even defined: the
  // reader is added and the marker set to lapse with it (one ms after, as cover_readers does).
  `if not redis.call('get', KEYS[1]) and redis.call('exists', KEYS[2], KEYS[4]) == 0 then
  local time = redis.call('time')
  local now = ${LUA_TIME_MS}
  local life = tonumber(ARGV[2]) + 1
  redis.call('zadd', KEYS[4], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('set', KEYS[1], '${READERS_MARKER}', 'PX', life)
  redis.call('pexpire', KEYS[4], life)
  return 0
end
${READ_LUA}local resource, waiters, deadlines, readers = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local value, ttl, member = ARGV[1], ARGV[2], ARGV[3]
local queued = redis.call('exists', waiters) == 1
local woke_needed = false
-- The deadline of the first live writer queued ahead of this member, or nil. Lapsed entries on
-- the way are dropped (a lapsed writer held readers back: they are told).
local function writer_ahead(now)
  for _, entry in ipairs(redis.call('zrange', waiters, 0, -1)) do
    if entry == member then return nil end
    local deadline = tonumber(redis.call('zscore', deadlines, entry))
    local _, _, entry_value = parse_member(entry)
    if not deadline or deadline <= now then
      redis.call('zrem', waiters, entry)
      redis.call('zrem', deadlines, entry)
      if not is_reader_value(entry_value) then woke_needed = true end
    elseif not is_reader_value(entry_value) then
      return deadline
    end
  end
  return nil
end
local now = clock()
local current = redis.call('get', resource)
local semaphore = semaphore_limit(current)
if semaphore then
  return {'kind', 'semaphore:' .. semaphore}
end
-- Whether this reader holds the node already: handed the key by a release, or a live entry of
-- its own (granted before, or made one when another attempt turned its handed key over). It is
-- renewed, as the mutex renews a key that holds its value, whoever waits in the queue.
local holds = current == value
if current and current ~= READERS_MARKER and not holds and is_reader_value(current) then
  reader_key_to_marker(resource, readers, current, now)
  current = READERS_MARKER
end
if queued and current == READERS_MARKER then
  local score = tonumber(redis.call('zscore', readers, value))
  holds = score ~= nil and score > now
end
-- A reader that holds the node and was waiting lets the readers queued behind it in.
if holds then woke_needed = true end
local held
if holds or not current or current == READERS_MARKER then
  local writer_deadline = queued and not holds and writer_ahead(now)
  if not writer_deadline then
    redis.call('zadd', readers, now + tonumber(ttl), value)
    cover_readers(resource, readers, now, false)
    if queued then
      redis.call('zrem', waiters, member)
      redis.call('zrem', deadlines, member)
      if woke_needed then wake_readers(resource, waiters, deadlines) end
    end
    return 0
  end
  if current then
    held = math.max(redis.call('pttl', resource), 1)
  else
    held = math.max(writer_deadline - now, 1)
  end
else
  held = redis.call('pttl', resource)
  if held ~= -1 then
    held = math.max(held, 1)
  end
end
if ARGV[5] == '1' then
  enqueue(waiters, deadlines, member, ARGV[4], tonumber(ttl), now)
end
return {held, now}`,
  true,
);

/**
 * A reader's release, or a waiting reader's `leave` / `stay` (see the hand-off release): drops
 * the reader (and the key, if a release handed it to this reader and it has not taken it yet),
 * and makes the marker lapse with the latest reader left; the last live reader out deletes it,
 * and a key left free goes to the first waiter. Answers 1 if this reader was live there, else 0.
 *
 * KEYS: the resource, its waiters, its waiter deadlines, its readers. ARGV[1]: the reader's
 * value. ARGV[2]: the mode, `release`, `leave` or `stay`. ARGV[3]: the queue member to remove
 * ('' for none). For `stay`, ARGV[4]: the member to add, ARGV[5]: its priority ('' keeps the
 * removed member's score), ARGV[6]: its life in milliseconds.
 */
export const READ_RELEASE_SCRIPT = luaScript(
  'read release',
  // A reader's plain release on a readers' key nobody queues for, before the shared Lua is
  // defined: lapsed readers and this one out, and the marker (and set) made to lapse with the
  // latest reader left, or deleted with the last one.
  `if ARGV[2] == 'release' and redis.call('exists', KEYS[2]) == 0
    and redis.call('get', KEYS[1]) == '${READERS_MARKER}' then
  local time = redis.call('time')
  local now = ${LUA_TIME_MS}
  redis.call('zremrangebyscore', KEYS[4], '-inf', now)
  local removed = redis.call('zrem', KEYS[4], ARGV[1])
  local last = tonumber(redis.call('zrange', KEYS[4], -1, -1, 'WITHSCORES')[2])
  if last and last > now then
    redis.call('set', KEYS[1], '${READERS_MARKER}', 'PX', last - now + 1)
    redis.call('pexpire', KEYS[4], last - now + 1)
  else
    redis.call('del', KEYS[1], KEYS[4])
  end
  return removed
end
${READ_LUA}local resource, waiters, deadlines, readers = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local value, mode = ARGV[1], ARGV[2]
local now = clock()
-- Lapsed readers go first (this one too, if it lapsed: then it was not there).
redis.call('zremrangebyscore', readers, '-inf', now)
local removed = redis.call('zrem', readers, value)
local current = redis.call('get', resource)
if current == value then
  redis.call('del', resource)
  removed = 1
elseif current == READERS_MARKER then
  cover_readers(resource, readers, now, true)
end
local has_queue = leave_or_stay(waiters, deadlines, mode, ARGV[3], ARGV[4], ARGV[5], ARGV[6])
if has_queue and redis.call('exists', resource) == 0 then
  hand_off(resource, waiters, deadlines)
end
return removed`,
  false,
);

/**
 * Extend a read lock: the reader's end moves to ttl from now and the marker follows it (also
 * shorter, when the other readers end sooner). Like the mutex's extend, it re-creates a reader
 * lost on a node (a restart, an eviction) where the key is free or held by readers; on a key
 * held by a writer or another exclusive holder it answers 0, lost on this node. Answers 1.
 *
 * KEYS: as the read acquire (the resource, its waiters, its waiter deadlines, its readers).
 * ARGV[1]: the reader's value. ARGV[2]: ttl in milliseconds.
 */
export const READ_EXTEND_SCRIPT = luaScript(
  'read extend',
  `${READ_LUA}local resource, readers = KEYS[1], KEYS[4]
local value = ARGV[1]
local now = clock()
local current = redis.call('get', resource)
if current and current ~= READERS_MARKER and current ~= value then
  if not is_reader_value(current) then
    return 0
  end
  reader_key_to_marker(resource, readers, current, now)
end
redis.call('zadd', readers, now + tonumber(ARGV[2]), value)
cover_readers(resource, readers, now, false)
return 1`,
  true,
);
