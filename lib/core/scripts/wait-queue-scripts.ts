import { LUA_GREATER, LUA_TIME_MS, luaScript } from './lua-script.js';
import {
  READERS_MARKER,
  READER_VALUE_PREFIX,
  RELEASE_CHANNEL_SUFFIX,
  SEMAPHORE_MARKER_PREFIX,
} from './keys.js';

/**
 * Lua shared by the queue scripts (internal): the node's clock (read once, when first needed),
 * the first live waiter of a queue (lapsed entries at its head are dropped on the way), joining
 * a queue (or renewing one's entry), a member's parts, telling a waiter, and handing a free key
 * to the first waiter. A waiter's score is its priority, the same on every node
 * (see `NodeClocks`); a waiter that does not know it yet sends '' and is placed by this node's
 * clock, a place it keeps until it sends its priority. Entries lapse `life` ms after their
 * last renewal, so a waiter that crashed or gave up without leaving holds nobody up for longer
 * than its ttl. A ttl goes to `redis.call` as the string it came in: a Lua number would be
 * formatted back into a string on every call, which made the acquire script about a third
 * slower on the node.
 */
export const QUEUE_LUA = `local now
local function clock()
  if not now then
    local time = redis.call('time')
    now = ${LUA_TIME_MS}
  end
  return now
end
local function first_waiter(waiters, deadlines, now)
  while true do
    local first = redis.call('zrange', waiters, 0, 0)[1]
    if not first then
      return nil
    end
    local deadline = tonumber(redis.call('zscore', deadlines, first))
    if deadline and deadline > now then
      return first, deadline
    end
    redis.call('zrem', waiters, first)
    redis.call('zrem', deadlines, first)
  end
end
local function enqueue(waiters, deadlines, member, priority, life, now)
  if priority == '' then
    redis.call('zadd', waiters, 'NX', now, member)
  else
    redis.call('zadd', waiters, priority, member)
  end
  redis.call('zadd', deadlines, now + life, member)
  if redis.call('pttl', deadlines) < life then
    redis.call('pexpire', waiters, life)
    redis.call('pexpire', deadlines, life)
  end
end
-- A member is '<ttl>:<inbox>:<value>': its parts.
local function parse_member(entry)
  local colon = string.find(entry, ':', 1, true)
  local inbox_end = string.find(entry, ':', colon + 1, true)
  return string.sub(entry, 1, colon - 1), string.sub(entry, colon + 1, inbox_end - 1),
    string.sub(entry, inbox_end + 1)
end
-- Tells a waiter's instance, on its channel for the resource, that its value was handed the
-- key or may take it now. Best effort: an ACL that forbids PUBLISH costs notices, nothing else.
local function notify(resource, inbox, value)
  redis.pcall('publish', resource .. '${RELEASE_CHANNEL_SUFFIX}:' .. inbox, value)
end
-- Read locks: what the key holds while readers hold it, and how a reader's value starts.
local READERS_MARKER = '${READERS_MARKER}'
local function is_reader_value(value)
  return string.sub(value, 1, 1) == '${READER_VALUE_PREFIX}'
end
-- Semaphores: while permits are held, the key holds this marker and the limit ('!sem:3').
local SEMAPHORE_MARKER = '${SEMAPHORE_MARKER_PREFIX}'
-- The limit a semaphore's marker names, or nil for any other value (or none).
local function semaphore_limit(current)
  if current and string.sub(current, 1, #SEMAPHORE_MARKER) == SEMAPHORE_MARKER then
    return string.sub(current, #SEMAPHORE_MARKER + 1)
  end
  return nil
end
-- Tells the live readers at the head of a queue, up to its first live writer, to take their
-- read locks: for when readers hold the key and the waiters ahead of those readers are gone
-- (a reader took a handed key over, or a writer ahead left or lapsed). Each is told once per
-- such change, not once per reader admitted.
local function wake_readers(resource, waiters, deadlines)
  local now = clock()
  for _, entry in ipairs(redis.call('zrange', waiters, 0, -1)) do
    local deadline = tonumber(redis.call('zscore', deadlines, entry))
    if deadline and deadline > now then
      local _, inbox, value = parse_member(entry)
      if not is_reader_value(value) then return end
      notify(resource, inbox, value)
    end
  end
end
-- A waiter's way out of a release (ARGV[2..6] of the release scripts): \`leave\` takes its entry
-- (member) out of the queue; \`stay\` re-queues it under a new member, in its place unless given
-- a priority. Answers whether the resource has a queue after it.
local function leave_or_stay(waiters, deadlines, mode, member, new_member, priority, life)
  local has_queue = redis.call('exists', waiters) == 1
  if has_queue and member ~= '' then
    if mode == 'stay' and priority == '' then
      priority = redis.call('zscore', waiters, member) or ''
    end
    redis.call('zrem', waiters, member)
    redis.call('zrem', deadlines, member)
  end
  if mode == 'stay' then
    enqueue(waiters, deadlines, new_member, priority, tonumber(life), clock())
    has_queue = true
  end
  return has_queue
end
-- Hands a free key to the first live waiter of its queue: SET to its value with its ttl, out
-- of the queue, and told on its instance's channel.
local function hand_off(resource, waiters, deadlines)
  local first = first_waiter(waiters, deadlines, clock())
  if not first then return end
  local ttl, inbox, next_value = parse_member(first)
  if tonumber(ttl) > 0 then
    redis.call('set', resource, next_value, 'PX', ttl)
    redis.call('zrem', waiters, first)
    redis.call('zrem', deadlines, first)
  end
  notify(resource, inbox, next_value)
end
`;

/**
 * Acquire one resource, in queue order. Grants (SET with the ttl) when the key already holds
 * this waiter's value (a release handed it over) or is free and no other live waiter is ahead;
 * otherwise joins the queue (or renews the entry, keeping its place) and answers how long the
 * key stays held: its PTTL (-1 without expiry), or, when it is free but reserved for the first
 * waiter, that waiter's remaining entry life, together with the node's clock (Unix ms):
 * `{held, now}`. Answers 0 on a grant; with a fourth key (the fencing counter) it increments
 * it on a grant and answers `{0, counter}`. A key that a semaphore's marker holds answers
 * `{'kind', 'semaphore:<limit>'}`, without joining the queue.
 *
 * KEYS: the resource, its waiters, its waiter deadlines[, its fencing counter].
 * ARGV[1]: the lock's value. ARGV[2]: ttl in milliseconds (also the entry's life).
 * ARGV[3]: the waiter's queue member (granted when it is first in line). ARGV[4]: its priority
 * (when it began to wait, on the nodes' clocks), or '' if not known yet. ARGV[5]: '1' to join
 * the queue (or renew the entry) when refused, '0' not to (a last attempt: its entry, if any,
 * still counts as its own place in line).
 */
export const QUEUED_ACQUIRE_SCRIPT = luaScript(
  'queued acquire',
  `${QUEUE_LUA}local value, ttl, member = ARGV[1], ARGV[2], ARGV[3]
local function granted()
  if #KEYS == 3 then
    return 0
  end
  redis.call('incr', KEYS[4])
  return {0, redis.call('get', KEYS[4])}
end
local held
if redis.call('set', KEYS[1], value, 'NX', 'PX', ttl) then
  if redis.call('exists', KEYS[2]) == 0 then
    return granted()
  end
  local first, deadline = first_waiter(KEYS[2], KEYS[3], clock())
  if not first or first == member then
    redis.call('zrem', KEYS[2], member)
    redis.call('zrem', KEYS[3], member)
    return granted()
  end
  -- Free, but reserved for the first waiter: undo, within the script, so nobody saw it.
  redis.call('del', KEYS[1])
  held = math.max(deadline - clock(), 1)
else
  local current = redis.call('get', KEYS[1])
  if current == value then
    -- Handed over to this waiter by a release: renew it from now.
    redis.call('pexpire', KEYS[1], ttl)
    return granted()
  end
  -- A semaphore's key: not a lock to wait for.
  local limit = semaphore_limit(current)
  if limit then
    return {'kind', 'semaphore:' .. limit}
  end
  held = redis.call('pttl', KEYS[1])
  if held ~= -1 then
    held = math.max(held, 1)
  end
end
if ARGV[5] == '1' then
  enqueue(KEYS[2], KEYS[3], member, ARGV[4], tonumber(ttl), clock())
end
return {held, clock()}`,
  true,
);

/**
 * Acquire several resources, all or none, in queue order. Grants (SET each key with the ttl,
 * leave each queue) when every key is free, or already holds this waiter's value, and no
 * other live waiter is ahead of it in any of their queues; otherwise joins each queue (or
 * renews its entries, keeping its places) and answers how long the resources stay held: the
 * longest PTTL (-1 for a key without expiry), or a reservation's remaining entry life. A
 * release hands such a waiter each key it frees (the key holds the waiter's value, which
 * keeps newcomers off it) and wakes it; the waiter takes them all at once. A refused waiter
 * keeps a key handed to it only while it is first in line for it, and otherwise passes it on:
 * every queue orders waiters by the same priority, so the earliest waiter is first in all of
 * its queues, and waiting cannot go round in a circle. A semaphore's key among them answers
 * `{'kind', 'semaphore:<limit>'}`, as the one-resource script does. Refused, it answers
 * `{held, now}` (the node's clock, Unix ms); granted,
 * 0, or with fencing (`ARGV[6]` is '1'), having incremented each resource's counter,
 * `{0, largest counter}`.
 *
 * KEYS: the n resources, their waiters, their waiter deadlines[, their fencing counters].
 * ARGV[1]: the lock's value. ARGV[2]: ttl in milliseconds (also the entries' life). ARGV[3]:
 * the waiter's member. ARGV[4]: its priority, or ''. ARGV[5]: '1' to join the queues when
 * refused. ARGV[6]: '1' with fencing counters.
 */
export const QUEUED_MULTI_ACQUIRE_SCRIPT = luaScript(
  'queued acquire of several resources',
  `${QUEUE_LUA}${LUA_GREATER}local value, ttl, member = ARGV[1], ARGV[2], ARGV[3]
local fenced = ARGV[6] == '1'
local n = #KEYS / (fenced and 4 or 3)
local held = 0
for i = 1, n do
  local current = redis.call('get', KEYS[i])
  if current and current ~= value then
    local limit = semaphore_limit(current)
    if limit then
      return {'kind', 'semaphore:' .. limit}
    end
    local remaining = redis.call('pttl', KEYS[i])
    if remaining == -1 then
      held = -1
      break
    end
    held = math.max(held, remaining, 1)
  elseif not current then
    local first, deadline = first_waiter(KEYS[n + i], KEYS[2 * n + i], clock())
    if first and first ~= member then
      held = math.max(held, deadline - clock(), 1)
    end
  end
end
if held == 0 then
  local token = '0'
  for i = 1, n do
    redis.call('set', KEYS[i], value, 'PX', ttl)
    redis.call('zrem', KEYS[n + i], member)
    redis.call('zrem', KEYS[2 * n + i], member)
    if fenced then
      redis.call('incr', KEYS[3 * n + i])
      local counter = redis.call('get', KEYS[3 * n + i])
      if greater(counter, token) then
        token = counter
      end
    end
  end
  if fenced then
    return {0, token}
  end
  return 0
end
if ARGV[5] == '1' then
  for i = 1, n do
    enqueue(KEYS[n + i], KEYS[2 * n + i], member, ARGV[4], tonumber(ttl), clock())
  end
  -- Keys handed to this waiter while it waits for the others: kept (renewed) while it is first
  -- in line for them, else passed on to the waiter now ahead. Held regardless, two waiters
  -- could each keep a key the other waits for.
  for i = 1, n do
    if redis.call('get', KEYS[i]) == value then
      local first = first_waiter(KEYS[n + i], KEYS[2 * n + i], clock())
      if first and first ~= member then
        redis.call('del', KEYS[i])
        hand_off(KEYS[i], KEYS[n + i], KEYS[2 * n + i])
      else
        redis.call('pexpire', KEYS[i], ttl)
      end
    end
  end
end
return {held, clock()}`,
  true,
);

/**
 * A holder's release: compare-and-delete each key; for each key left free (deleted here, or
 * lapsed already) that has a wait queue, hand it to the first live waiter as
 * {@link HAND_OFF_RELEASE_SCRIPT} does. The queue's code is defined only when some key has
 * one: a release with nobody waiting costs the node a compare-and-delete and one EXISTS per
 * key. Answers how many keys it deleted.
 *
 * KEYS: the n resources, then their waiters, then their waiter deadlines. ARGV[1]: the lock's
 * value.
 */
export const RELEASE_WITH_HAND_OFF_SCRIPT = luaScript(
  'release',
  `local n = #KEYS / 3
local deleted = 0
local queued
for i = 1, n do
  local current = redis.call('get', KEYS[i])
  if current == ARGV[1] then
    deleted = deleted + redis.call('del', KEYS[i])
  end
  if (current == ARGV[1] or not current) and redis.call('exists', KEYS[n + i]) == 1 then
    queued = queued or {}
    queued[#queued + 1] = i
  end
end
if queued then
${QUEUE_LUA}  for _, i in ipairs(queued) do
    hand_off(KEYS[i], KEYS[n + i], KEYS[2 * n + i])
  end
end
return deleted`,
  false,
);

/**
 * A waiter's release, with hand-off: compare-and-delete each key, then, for each key left free, hand it to
 * the first live waiter of its queue (SET with that waiter's ttl, and remove it from the
 * queue) and publish that waiter's value on its instance's channel for the key
 * (`<key>:redlock:released:<inbox>`, the inbox read from its member). A waiter that takes
 * the lock itself (fenced, or several resources) is handed the key all the same, which keeps
 * newcomers' plain SET NX off it, and takes the lock with its next attempt; one queued with
 * ttl 0 (by version 0.1) is only woken, the key left free. With nobody waiting, nothing is
 * published. Publishing is best effort (`pcall`): an ACL that forbids it
 * costs the waiters their notices, never the release. Answers how many keys it deleted.
 *
 * A key that readers hold (the read locks' marker) is not free: when a waiter leaves its queue,
 * the readers queued behind it are told to try again (a writer that gave up no longer holds
 * them back).
 *
 * Modes: `leave` (a waiter gives up: its entry goes too), `stay` (a waiter drops the partial
 * grants of a failed attempt but keeps its place, under a new member). After a `stay`, each freed key goes to its first waiter, which may be the same
 * waiter under its new value: since every node orders waiters by the same priority, the
 * first live waiter gets every free key, and split grants resolve at once instead of
 * blocking each other until they expire.
 *
 * KEYS: the n resources, then their waiters, then their waiter deadlines.
 * ARGV[1]: the lock's value. ARGV[2]: the mode. ARGV[3]: the member to remove. For `stay`, ARGV[4]: the member to add, ARGV[5]: its priority ('' keeps the removed
 * member's score), ARGV[6]: its life in milliseconds.
 */
export const HAND_OFF_RELEASE_SCRIPT = luaScript(
  'hand-off release',
  `${QUEUE_LUA}local n = #KEYS / 3
local value, mode = ARGV[1], ARGV[2]
local deleted = 0
for i = 1, n do
  local resource, waiters, deadlines = KEYS[i], KEYS[n + i], KEYS[2 * n + i]
  local free = false
  if redis.call('get', resource) == value then
    deleted = deleted + redis.call('del', resource)
    free = true
  end
  local has_queue = leave_or_stay(waiters, deadlines, mode, ARGV[3], ARGV[4], ARGV[5], ARGV[6])
  if has_queue and (free or redis.call('exists', resource) == 0) then
    hand_off(resource, waiters, deadlines)
  elseif has_queue and redis.call('get', resource) == READERS_MARKER then
    -- Readers hold the key: those queued behind the waiter that left may go in now.
    wake_readers(resource, waiters, deadlines)
  end
end
return deleted`,
  false,
);
