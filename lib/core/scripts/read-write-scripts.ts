import { luaScript } from './lua-script.js';
import { QUEUE_LUA } from './wait-queue-scripts.js';
import { READERS_MARKER, READER_VALUE_PREFIX } from './keys.js';

/**
 * Lua shared by the read scripts: readers are entries of a sorted set beside the resource
 * (`<resource>:redlock:readers`), each scored by the node time at which it lapses, and while
 * any is live the resource's key holds a marker that outlives them all. A writer is a plain
 * holder of the key (the mutex), so the marker keeps every writer's SET NX and queued attempt
 * off it, with no change to the writer's scripts. A waiter whose value starts with
 * `READER_VALUE_PREFIX` is a reader.
 */
const READ_LUA = `${QUEUE_LUA}local MARKER = '${READERS_MARKER}'
local function is_reader(value)
  return string.sub(value, 1, 1) == '${READER_VALUE_PREFIX}'
end
-- Drops lapsed readers; the latest live reader's end (node ms), or nil if none is left.
local function readers_end(readers, now)
  redis.call('zremrangebyscore', readers, '-inf', now)
  local last = redis.call('zrange', readers, -1, -1, 'WITHSCORES')[2]
  return last and tonumber(last)
end
-- Makes the key's marker, and the set, last as long as the latest reader (never shorter).
local function cover_readers(resource, readers, now)
  local life = readers_end(readers, now) - now
  if redis.call('get', resource) ~= MARKER or redis.call('pttl', resource) < life then
    redis.call('set', resource, MARKER, 'PX', life)
  end
  if redis.call('pttl', readers) < life then
    redis.call('pexpire', readers, life)
  end
end
`;

/**
 * Acquire a read lock on one resource, in queue order. Grants (adds the reader, and sets or
 * prolongs the marker) when the key was handed to this reader by a release, or when the key is
 * free or held by readers and no live writer waits ahead of this waiter (anywhere in the queue,
 * for a newcomer): readers share, and a waiting writer is not overtaken. On a grant it also
 * tells the readers at the head of the queue, up to the first writer, to take theirs. Otherwise
 * joins the queue (or renews the entry) and answers `{held, now}`, as the queued acquire does.
 * Answers 0 on a grant.
 *
 * KEYS: the resource, its waiters, its waiter deadlines, its readers.
 * ARGV: as the queued acquire: the reader's value, ttl, member, priority, join ('1' or '0').
 */
export const QUEUED_READ_ACQUIRE_SCRIPT = luaScript(
  'queued read acquire',
  `${READ_LUA}local resource, waiters, deadlines, readers = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local value, ttl, member = ARGV[1], ARGV[2], ARGV[3]
-- The deadline of the first live writer queued ahead of this member, or nil.
local function writer_ahead(now)
  for _, entry in ipairs(redis.call('zrange', waiters, 0, -1)) do
    if entry == member then return nil end
    local deadline = tonumber(redis.call('zscore', deadlines, entry))
    if not deadline or deadline <= now then
      redis.call('zrem', waiters, entry)
      redis.call('zrem', deadlines, entry)
    else
      local _, _, entry_value = parse_member(entry)
      if not is_reader(entry_value) then return deadline end
    end
  end
  return nil
end
-- Tells the live readers at the head of the queue, up to the first writer, to take theirs.
local function wake_readers(now)
  for _, entry in ipairs(redis.call('zrange', waiters, 0, -1)) do
    local deadline = tonumber(redis.call('zscore', deadlines, entry))
    if deadline and deadline > now then
      local _, inbox, entry_value = parse_member(entry)
      if not is_reader(entry_value) then return end
      notify(resource, inbox, entry_value)
    end
  end
end
local function admit(now)
  redis.call('zadd', readers, now + tonumber(ttl), value)
  cover_readers(resource, readers, now)
  redis.call('zrem', waiters, member)
  redis.call('zrem', deadlines, member)
  wake_readers(now)
  return 0
end
local now = clock()
local current = redis.call('get', resource)
local held
if current == value then
  -- Handed to this reader by a release: the marker replaces its value.
  return admit(now)
elseif not current or current == MARKER then
  local writer_deadline = writer_ahead(now)
  if not writer_deadline then
    return admit(now)
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
 * the reader (and the key, if a release handed it to this reader and it has not taken it yet);
 * the last live reader out deletes the marker; a key left free goes to the first waiter.
 * Answers 1 if this reader was there, else 0.
 *
 * KEYS: the resource, its waiters, its waiter deadlines, its readers. ARGV[1]: the reader's
 * value. ARGV[2]: the mode, `release`, `leave` or `stay`. ARGV[3]: the queue member to remove
 * ('' for none). For `stay`, ARGV[4]: the member to add, ARGV[5]: its priority ('' keeps the
 * removed member's score), ARGV[6]: its life in milliseconds.
 */
export const READ_RELEASE_SCRIPT = luaScript(
  'read release',
  `${READ_LUA}local resource, waiters, deadlines, readers = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local value, mode = ARGV[1], ARGV[2]
local removed = redis.call('zrem', readers, value)
local current = redis.call('get', resource)
local free = false
if current == value then
  redis.call('del', resource)
  removed = 1
  free = true
elseif current == MARKER and not readers_end(readers, clock()) then
  redis.call('del', resource)
  free = true
end
local has_queue = redis.call('exists', waiters) == 1
local priority = ARGV[5]
if has_queue and ARGV[3] ~= '' then
  if mode == 'stay' and priority == '' then
    priority = redis.call('zscore', waiters, ARGV[3]) or ''
  end
  redis.call('zrem', waiters, ARGV[3])
  redis.call('zrem', deadlines, ARGV[3])
end
if mode == 'stay' then
  enqueue(waiters, deadlines, ARGV[4], priority, tonumber(ARGV[6]), clock())
  has_queue = true
end
if has_queue and (free or redis.call('exists', resource) == 0) then
  hand_off(resource, waiters, deadlines)
end
return removed`,
  false,
);

/**
 * Extend a read lock: a live reader's end moves to ttl from now, and the marker is prolonged
 * to cover it. Answers 1, or 0 if the reader is not there (lapsed or released), which counts as
 * lost on this node.
 *
 * KEYS: as the read acquire (the resource, its waiters, its waiter deadlines, its readers).
 * ARGV[1]: the reader's value. ARGV[2]: ttl in milliseconds.
 */
export const READ_EXTEND_SCRIPT = luaScript(
  'read extend',
  `${READ_LUA}local resource, readers = KEYS[1], KEYS[4]
local value = ARGV[1]
local now = clock()
local score = redis.call('zscore', readers, value)
if not score or tonumber(score) <= now or redis.call('get', resource) ~= MARKER then
  return 0
end
redis.call('zadd', readers, now + tonumber(ARGV[2]), value)
cover_readers(resource, readers, now)
return 1`,
  true,
);
