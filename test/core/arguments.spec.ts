import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FencedRedisStore, InvalidLockKeyError, Redlock } from '../../lib/index.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisServer } from '../support/redis-nodes.js';

/**
 * Every bad argument throws a TypeError or RangeError that names it, and no command reaches a
 * node (checked on a real node's command statistics).
 */
describe('bad arguments', () => {
  let server: RedisServer;
  let probe: NodeProbe;
  let redlock: Redlock;

  beforeAll(async () => {
    server = await RedisServer.start();
    probe = new NodeProbe([server]);
    await probe.connect();
    redlock = new Redlock([server.url]);
    await (await redlock.acquire('warm-up', 1_000)).release();
  });
  afterAll(async () => {
    await redlock.quit();
    await probe.quit();
    await server.stop();
  });

  const constructorCases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ['no nodes', () => new Redlock([]), TypeError, /`nodes`/],
    ['nodes not an array', () => new Redlock('redis://x' as never), TypeError, /`nodes`/],
    ['a null node', () => new Redlock([null as never]), TypeError, /`nodes\[0\]`/],
    ['a number node', () => new Redlock(['redis://a', 42 as never]), TypeError, /`nodes\[1\]`/],
    ['an unparsable URL', () => new Redlock(['not a url']), TypeError, /`nodes\[0\]`.*redis:\/\//],
    [
      'another scheme',
      () => new Redlock(['http://localhost:6379']),
      TypeError,
      /redis: or rediss:/,
    ],
    ['a bad database', () => new Redlock(['redis://localhost/abc']), TypeError, /database number/],
    [
      'driftFactor 0.5',
      () => new Redlock(['redis://a'], { driftFactor: 0.5 }),
      RangeError,
      /`driftFactor`/,
    ],
    [
      'driftFactor < 0',
      () => new Redlock(['redis://a'], { driftFactor: -0.1 }),
      RangeError,
      /`driftFactor`/,
    ],
    [
      'driftFactor NaN',
      () => new Redlock(['redis://a'], { driftFactor: NaN }),
      RangeError,
      /`driftFactor`/,
    ],
    [
      'retryCount -2',
      () => new Redlock(['redis://a'], { retryCount: -2 }),
      RangeError,
      /`retryCount`/,
    ],
    [
      'retryCount 1.5',
      () => new Redlock(['redis://a'], { retryCount: 1.5 }),
      RangeError,
      /`retryCount`/,
    ],
    [
      'retryDelayMs < 0',
      () => new Redlock(['redis://a'], { retryDelayMs: -1 }),
      RangeError,
      /`retryDelayMs`/,
    ],
    [
      'retryDelayMs ∞',
      () => new Redlock(['redis://a'], { retryDelayMs: Infinity }),
      RangeError,
      /`retryDelayMs`/,
    ],
    [
      'retryJitterMs NaN',
      () => new Redlock(['redis://a'], { retryJitterMs: NaN }),
      RangeError,
      /`retryJitterMs`/,
    ],
    ['waitMs < 0', () => new Redlock(['redis://a'], { waitMs: -1 }), RangeError, /`waitMs`/],
    [
      'nodeTimeoutMs past a timer',
      () => new Redlock(['redis://a'], { nodeTimeoutMs: 2 ** 31 }),
      RangeError,
      /`nodeTimeoutMs` to be at most 2147483647/,
    ],
    [
      'nodeTimeoutMs 0',
      () => new Redlock(['redis://a'], { nodeTimeoutMs: 0 }),
      RangeError,
      /`nodeTimeoutMs`/,
    ],
    [
      'a minority quorum',
      () => new Redlock(['redis://a', 'redis://b', 'redis://c'], { quorum: 1 }),
      RangeError,
      /`quorum`.*majority/,
    ],
    [
      'a quorum above N',
      () => new Redlock(['redis://a', 'redis://b', 'redis://c'], { quorum: 4 }),
      RangeError,
      /`quorum`/,
    ],
    [
      'options not an object',
      () => new Redlock(['redis://a'], 'fast' as never),
      TypeError,
      /`options`/,
    ],
  ];

  it.each(constructorCases)('new Redlock with %s', (_, build, type, message) => {
    expect(build).toThrow(type);
    expect(build).toThrow(message);
  });

  it('never shows a password from a bad URL', () => {
    expect(() => new Redlock(['redis://:hunter2@'])).toThrow(/\*\*\*/);
    expect(() => new Redlock(['redis://:hunter2@'])).not.toThrow(/hunter2/);
  });

  const acquireCases: [string, unknown, unknown, unknown, ErrorConstructor, RegExp][] = [
    ['an empty resource', '', 1_000, undefined, RangeError, /`resources`/],
    ['no resources', [], 1_000, undefined, RangeError, /`resources`/],
    ['an empty resource in a list', ['a', ''], 1_000, undefined, RangeError, /`resources\[1\]`/],
    ['a non-string resource', ['a', 7], 1_000, undefined, TypeError, /`resources\[1\]`/],
    ['a null resource list', null, 1_000, undefined, TypeError, /`resources`/],
    ['an object resource', {}, 1_000, undefined, TypeError, /`resources`/],
    ['a resource over 1024 bytes', 'é'.repeat(513), 1_000, undefined, RangeError, /1024 bytes/],
    ['ttl 0', 'a', 0, undefined, RangeError, /`ttlMs`/],
    ['ttl < 0', 'a', -5, undefined, RangeError, /`ttlMs`/],
    ['ttl NaN', 'a', NaN, undefined, RangeError, /`ttlMs`/],
    ['ttl Infinity', 'a', Infinity, undefined, RangeError, /`ttlMs`/],
    ['ttl not an integer', 'a', 1.5, undefined, RangeError, /`ttlMs`/],
    ['ttl a string', 'a', '1000', undefined, RangeError, /`ttlMs`/],
    ['ttl past a timer (2^31 ms)', 'a', 2 ** 31, undefined, RangeError, /at most 2147483647 ms/],
    ['retryDelayMs past a timer', 'a', 1_000, { retryDelayMs: 2 ** 31 }, RangeError, /at most/],
    ['retryCount -2', 'a', 1_000, { retryCount: -2 }, RangeError, /`options.retryCount`/],
    ['waitMs NaN', 'a', 1_000, { waitMs: NaN }, RangeError, /`options.waitMs`/],
    ['a non-signal', 'a', 1_000, { signal: 'stop' }, TypeError, /`options.signal`/],
    ['options a string', 'a', 1_000, 'fast', TypeError, /`options`/],
  ];

  it.each(acquireCases)('acquire with %s', async (_, resources, ttl, options, type, message) => {
    const before = await probe.lockCommands();
    const attempt = redlock.acquire(resources as never, ttl as never, options as never);
    await expect(attempt).rejects.toThrow(type);
    await expect(attempt).rejects.toThrow(message);
    expect(await probe.lockCommands()).toEqual(before);
  });

  it.each([
    ['a queue', 'x:redlock:waiters'],
    ['a fencing counter', 'x:redlock:fence'],
    ['a list with one', ['y', 'x:redlock:deadlines']],
  ])(
    'refuses %s of another resource as a resource name, with InvalidLockKeyError',
    async (_, resources) => {
      const before = await probe.lockCommands();
      const attempt = redlock.acquire(resources, 1_000);
      await expect(attempt).rejects.toBeInstanceOf(InvalidLockKeyError);
      await expect(attempt).rejects.toThrow(/":redlock:"/);
      expect(await probe.lockCommands()).toEqual(before);
    },
  );

  it('refuses a reserved name in a FencedRedisStore, whose keys may share the lock nodes', async () => {
    const store = new FencedRedisStore(probe.at(0));
    await probe.at(0).set('x:redlock:fence', '41');
    await expect(store.set('x:redlock:fence', '0', 1n)).rejects.toBeInstanceOf(InvalidLockKeyError);
    expect(await probe.at(0).get('x:redlock:fence')).toBe('41');
  });

  it('holds a lock with the longest ttl a timer allows, without losing it at once', async () => {
    const lost = await redlock.using('args:long', 2 ** 31 - 1, async (signal) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return signal.aborted;
    });
    expect(lost).toBe(false);
  });

  it('accepts a resource of exactly 1024 bytes', async () => {
    const lock = await redlock.acquire('x'.repeat(1024), 1_000);
    await expect(lock.release()).resolves.toBe(true);
  });

  it('extend, release and using check their arguments before any network call', async () => {
    const lock = await redlock.acquire('args:1', 5_000);
    const before = await probe.lockCommands();
    await expect(lock.extend(0)).rejects.toThrow(/`ttlMs`/);
    await expect(redlock.extend(lock, NaN)).rejects.toThrow(RangeError);
    await expect(redlock.release({} as never)).rejects.toThrow(/`lock`/);
    await expect(redlock.extend(null as never, 1_000)).rejects.toThrow(TypeError);
    await expect(redlock.using('args:2', 1_000, 'work' as never)).rejects.toThrow(/`routine`/);
    await expect(redlock.using('', 1_000, async () => 1)).rejects.toThrow(/`resources`/);
    expect(await probe.lockCommands()).toEqual(before);
    await lock.release();
  });
});
