import { createHash } from 'node:crypto';

/** A Lua script with its SHA1, for EVALSHA with an EVAL fallback on NOSCRIPT. */
export interface LuaScript {
  /** What the script is for, in error messages. */
  readonly name: string;
  /** The Lua source. */
  readonly source: string;
  /** SHA1 of `source`, as Redis names it. */
  readonly sha: string;
  /**
   * Whether it takes or prolongs a hold (acquire, extend) rather than giving one up (release).
   * Such a script is not sent to a node that has stopped answering, and its NOSCRIPT fallback
   * is skipped once the operation is decided: a late acquire could land after the release
   * that followed it (another client may have loaded the release script meanwhile, so that
   * release did not fail in turn). A release is always sent: it is what cleans up.
   */
  readonly takesHold: boolean;
}

function script(name: string, source: string, takesHold: boolean): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return Object.freeze({ name, source, sha, takesHold });
}

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
 * Extend, all or nothing: compare-and-pexpire. Only if every key still holds the lock's value
 * are they all given the new ttl; answers 1 if so, 0 if not.
 *
 * KEYS: the resources. ARGV[1]: the lock's value. ARGV[2]: the new ttl in milliseconds.
 */
export const EXTEND_SCRIPT = script(
  'extend',
  `for i = 1, #KEYS do
  if redis.call('get', KEYS[i]) ~= ARGV[1] then
    return 0
  end
end
for i = 1, #KEYS do
  redis.call('pexpire', KEYS[i], ARGV[2])
end
return 1`,
  true,
);

/** Every script, to load on each new connection. */
export const ALL_SCRIPTS: readonly LuaScript[] = [ACQUIRE_SCRIPT, RELEASE_SCRIPT, EXTEND_SCRIPT];
