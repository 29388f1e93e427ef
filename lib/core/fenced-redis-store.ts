import type { Cluster, Redis } from 'ioredis';
import { InvalidLockKeyError, StaleFencingTokenError } from './errors/index.js';
import { countFencingRefusal, loadOtelApi } from './telemetry/index.js';
import {
  evalWithFallback,
  FENCE_SEEN_SUFFIX,
  FENCED_ACCESS_SCRIPT,
  RESERVED_NAMESPACE,
} from './scripts/index.js';

/** The reply of the fenced access script: `[1, value?]` when allowed, `[0, seen]` when stale. */
type FencedAccessReply = [1, (string | null)?] | [0, string];

/**
 * Data in a Redis you write to under a fenced lock: every read and write carries the lock's
 * fencing token, and the store refuses a token lower than the highest it has seen for the key.
 * A holder that paused past its lock's validity is then turned away, even after the next holder
 * has read but not yet written. Each check is atomic (one Lua script), and the highest token
 * lives beside the data under `<key>:redlock:fence-seen`.
 *
 * @example
 * const store = new FencedRedisStore(storageRedis);
 * await redlock.using('counter', 5_000, async (signal, lock) => {
 *   const count = Number((await store.get('counter', lock.fencingToken!)) ?? 0);
 *   await store.set('counter', String(count + 1), lock.fencingToken!);
 * }, { fencing: true });
 */
export class FencedRedisStore {
  private readonly client: Redis | Cluster;

  /** @param client the connection to the data's Redis (the caller's; never closed here). */
  constructor(client: Redis | Cluster) {
    if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function') {
      throw new TypeError('Expected `client` to be an ioredis Redis or Cluster instance');
    }
    this.client = client;
    // Refusals are counted through OpenTelemetry when its API is installed.
    void loadOtelApi();
  }

  /**
   * Reads `key` with `token`: raises the key's highest seen token to it, and resolves to the
   * value (`null` if none).
   * @throws {StaleFencingTokenError} a higher token was seen for `key`.
   */
  async get(key: string, token: bigint): Promise<string | null> {
    const reply = await this.access(key, token, 'get');
    return reply[1] ?? null;
  }

  /**
   * Writes `value` to `key` with `token`, unless a higher token was seen for the key.
   * @throws {StaleFencingTokenError} a higher token was seen for `key`; nothing was written.
   */
  async set(key: string, value: string, token: bigint): Promise<void> {
    if (typeof value !== 'string') {
      throw new TypeError(`Expected \`value\` to be a string, got ${typeof value}`);
    }
    await this.access(key, token, 'set', value);
  }

  private async access(
    key: string,
    token: bigint,
    operation: 'get' | 'set',
    value = '',
  ): Promise<FencedAccessReply> {
    if (typeof key !== 'string' || key.length === 0) {
      throw new TypeError('Expected `key` to be a non-empty string');
    }
    if (key.includes(RESERVED_NAMESPACE)) throw InvalidLockKeyError.reserved(key, '`key`');
    if (typeof token !== 'bigint' || token < 0n) {
      throw new TypeError(
        `Expected \`token\` to be a lock's fencingToken (a bigint ≥ 0), got ${typeof token === 'bigint' ? token : typeof token}` +
          (token === undefined ? ' (was the lock acquired with `fencing: true`?)' : ''),
      );
    }
    const keys = [key, key + FENCE_SEEN_SUFFIX];
    const args = [token.toString(), operation, value];
    const reply = (await evalWithFallback(
      () => this.client.evalsha(FENCED_ACCESS_SCRIPT.sha, keys.length, ...keys, ...args),
      () => this.client.eval(FENCED_ACCESS_SCRIPT.source, keys.length, ...keys, ...args),
    )) as FencedAccessReply;
    if (reply[0] === 0) {
      countFencingRefusal();
      throw new StaleFencingTokenError(key, token, BigInt(reply[1]));
    }
    return reply;
  }
}
