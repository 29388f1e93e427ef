import { LUA_GREATER, luaScript as script, type LuaScript } from './lua-script.js';
import {
  HAND_OFF_RELEASE_SCRIPT,
  RELEASE_WITH_HAND_OFF_SCRIPT,
  QUEUED_ACQUIRE_SCRIPT,
  QUEUED_MULTI_ACQUIRE_SCRIPT,
} from './wait-queue-scripts.js';
import {
  QUEUED_READ_ACQUIRE_SCRIPT,
  READ_EXTEND_SCRIPT,
  READ_RELEASE_SCRIPT,
} from './read-write-scripts.js';
import {
  SEMAPHORE_ACQUIRE_SCRIPT,
  SEMAPHORE_EXTEND_SCRIPT,
  SEMAPHORE_RELEASE_SCRIPT,
} from './semaphore-scripts.js';

export type { LuaScript } from './lua-script.js';

/**
 * Acquire, all or nothing: if any key exists, set none and answer the longest PTTL among them
 * (-1 if one has no expiry); otherwise set every key to the lock's value with the ttl and
 * answer 0. Answering the PTTL lets a refused acquirer say when to retry without a second
 * round trip.
 *
 * KEYS: the resources. ARGV[1]: the lock's value. ARGV[2]: ttl in milliseconds.
 */
export const ACQUIRE_SCRIPT = script(
  'acquire',
  `local held = 0
for i = 1, #KEYS do
  local remaining = redis.call('pttl', KEYS[i])
  if remaining == -1 then
    return -1
  elseif remaining >= 0 then
    held = math.max(held, remaining, 1)
  end
end
if held > 0 then
  return held
end
for i = 1, #KEYS do
  redis.call('set', KEYS[i], ARGV[1], 'PX', ARGV[2])
end
return 0`,
  true,
);

/**
 * Acquire one free resource: `SET key value NX PX ttl`, sent as that plain command (the node
 * runs no script), the cheapest acquire there is. It ignores the wait queue, so it is only a
 * first attempt: a key is free with waiters queued only once its holder's ttl ran out (every
 * release hands the key to the first waiter), and that is the one moment a newcomer can go
 * before them. Answers 'OK' on a grant, null when the key is held.
 *
 * KEYS[1]: the resource. ARGV[1]: the lock's value. ARGV[2]: ttl in milliseconds.
 */
export const SET_IF_ABSENT: LuaScript = Object.freeze({
  ...script(
    'set if absent',
    "return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])",
    true,
  ),
  command: 'set-if-absent',
});

/**
 * Release: compare-and-delete. Deletes each key that still holds the lock's value, never one
 * that another holder has since taken, and answers how many it deleted.
 *
 * KEYS: the resources. ARGV[1]: the lock's value.
 */
export const RELEASE_SCRIPT = script(
  'release',
  `local deleted = 0
for i = 1, #KEYS do
  if redis.call('get', KEYS[i]) == ARGV[1] then
    deleted = deleted + redis.call('del', KEYS[i])
  end
end
return deleted`,
  false,
);

/**
 * Extend, all or nothing: compare-and-pexpire, re-creating missing keys. Only if every key
 * holds the lock's value or is missing (the node restarted empty, or the key was evicted or
 * deleted) are they all given the new ttl, the missing ones set to the value (as SET NX would);
 * answers 1 if so, 0 if any key holds another value. Re-creating keeps the lock on a majority
 * through a rolling restart; the engine counts the vote under the same rules as a grant
 * (a restarted node is vetoed), and only extends a lock that is still valid, so no other holder
 * can have a quorum meanwhile (docs/correctness.md).
 *
 * KEYS: the resources. ARGV[1]: the lock's value. ARGV[2]: the new ttl in milliseconds.
 */
export const EXTEND_SCRIPT = script(
  'extend',
  `for i = 1, #KEYS do
  local current = redis.call('get', KEYS[i])
  if current and current ~= ARGV[1] then
    return 0
  end
end
for i = 1, #KEYS do
  redis.call('set', KEYS[i], ARGV[1], 'PX', ARGV[2])
end
return 1`,
  true,
);

/**
 * The fenced acquire's reply: `[0, counter]` on a grant, `[pttl]` when held; the queued
 * acquire's adds the node's clock when held: `[held, now]`.
 */
export type FencedAcquireReply = [0, string] | [number] | [number, number];

/** The queued acquire's reply without fencing: 0 on a grant, `[held, now]` when refused. */
export type QueuedAcquireReply = 0 | [number, number];

/**
 * Acquire with a fencing token, phase 1 (see `docs/correctness.md`): like {@link ACQUIRE_SCRIPT},
 * and on a grant it also increments each resource's fencing counter and answers the largest.
 * Answers `{0, counter}` on a grant, `{pttl}` when held (-1 for a key without expiry).
 *
 * KEYS: the resources, then their counters, in the same order. ARGV[1]: the lock's value.
 * ARGV[2]: ttl in milliseconds.
 */
export const FENCED_ACQUIRE_SCRIPT = script(
  'fenced acquire',
  `${LUA_GREATER}local n = #KEYS / 2
local held = 0
for i = 1, n do
  local remaining = redis.call('pttl', KEYS[i])
  if remaining == -1 then
    return {-1}
  elseif remaining >= 0 then
    held = math.max(held, remaining, 1)
  end
end
if held > 0 then
  return {held}
end
local token = '0'
for i = 1, n do
  redis.call('set', KEYS[i], ARGV[1], 'PX', ARGV[2])
  redis.call('incr', KEYS[n + i])
  local counter = redis.call('get', KEYS[n + i])
  if greater(counter, token) then
    token = counter
  end
end
return {0, token}`,
  true,
);

/**
 * Acquire with a fencing token, phase 2: raises each resource's counter to the token (never
 * lowers it), whether or not the lock is still there, then answers 1 if every key still holds
 * the lock's value, 0 if not.
 *
 * KEYS: the resources, then their counters. ARGV[1]: the lock's value. ARGV[2]: the token.
 */
export const FENCE_CONFIRM_SCRIPT = script(
  'fence confirm',
  `${LUA_GREATER}local n = #KEYS / 2
for i = 1, n do
  local counter = redis.call('get', KEYS[n + i])
  if counter == false or greater(ARGV[2], counter) then
    redis.call('set', KEYS[n + i], ARGV[2])
  end
end
for i = 1, n do
  if redis.call('get', KEYS[i]) ~= ARGV[1] then
    return 0
  end
end
return 1`,
  true,
);

/**
 * A fenced store's access (`FencedRedisStore`): refuses a token lower than the highest seen for
 * the key, answering `{0, seen}`; otherwise records the token as the highest seen and reads
 * (`{1, value}`, or `{1}` for no value) or writes (`{1}`) the key. Equal tokens are allowed:
 * they come from the same grant.
 *
 * KEYS[1]: the data key. KEYS[2]: its highest-seen key. ARGV[1]: the token. ARGV[2]: `get` or
 * `set`. ARGV[3]: the value to set.
 */
export const FENCED_ACCESS_SCRIPT = script(
  'fenced access',
  `${LUA_GREATER}local seen = redis.call('get', KEYS[2])
if seen and greater(seen, ARGV[1]) then
  return {0, seen}
end
redis.call('set', KEYS[2], ARGV[1])
if ARGV[2] == 'set' then
  redis.call('set', KEYS[1], ARGV[3])
  return {1}
end
return {1, redis.call('get', KEYS[1])}`,
  false,
);

/**
 * Does nothing: the health check runs it (EVALSHA, with the EVAL fallback) to learn whether
 * the node lets this client run scripts at all (an ACL without EVALSHA, a renamed EVAL).
 */
export const PROBE_SCRIPT = script('probe', 'return 1', false);

/** Every script, to load on each new connection. */
export const ALL_SCRIPTS: readonly LuaScript[] = [
  ACQUIRE_SCRIPT,
  RELEASE_SCRIPT,
  EXTEND_SCRIPT,
  FENCED_ACQUIRE_SCRIPT,
  FENCE_CONFIRM_SCRIPT,
  QUEUED_ACQUIRE_SCRIPT,
  QUEUED_MULTI_ACQUIRE_SCRIPT,
  HAND_OFF_RELEASE_SCRIPT,
  RELEASE_WITH_HAND_OFF_SCRIPT,
  QUEUED_READ_ACQUIRE_SCRIPT,
  READ_RELEASE_SCRIPT,
  READ_EXTEND_SCRIPT,
  SEMAPHORE_ACQUIRE_SCRIPT,
  SEMAPHORE_RELEASE_SCRIPT,
  SEMAPHORE_EXTEND_SCRIPT,
  PROBE_SCRIPT,
];
