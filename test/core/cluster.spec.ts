import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { CrossSlotError, Redlock } from '../../lib/index.js';
import { fencingCounterKey } from '../../lib/core/scripts/keys.js';
import { hashSlot } from '../../lib/core/nodes/hash-slot.js';
import { startRedisClusterMode } from '../support/redis-cluster-mode.js';
import type { RedisCluster } from '../support/redis-nodes.js';

describe('a Redis Cluster as a node (real 3-master cluster)', () => {
  let servers: RedisCluster;
  let cluster: Cluster;
  let redlock: Redlock;

  beforeAll(async () => {
    servers = await startRedisClusterMode(3);
    cluster = new Cluster([{ host: '127.0.0.1', port: servers.servers[0].port }]);
    await new Promise((resolve) => cluster.once('ready', resolve));
    redlock = new Redlock([cluster], { retryCount: 0 });
  });
  afterAll(async () => {
    await redlock.quit();
    cluster.disconnect();
    await servers.stop();
  });

  it('computes the same slots as the cluster itself', async () => {
    for (const key of [
      'order:1',
      'a',
      'user:{42}:cart',
      '{}x',
      'é:ü',
      '{a}b{c}',
      'x'.repeat(300),
    ]) {
      expect(hashSlot(key)).toBe(await cluster.cluster('KEYSLOT', key));
    }
  });

  it('locks and releases keys spread across the masters', async () => {
    for (const key of ['order:1', 'order:2', 'order:3', 'order:4']) {
      const lock = await redlock.acquire(key, 5_000);
      expect(await cluster.get(key)).toBe(lock.value);
      await expect(lock.release()).resolves.toBe(true);
      expect(await cluster.get(key)).toBeNull();
    }
  });

  it('refuses resources in different slots before any network call, naming the fix', async () => {
    expect(hashSlot('cart:1')).not.toBe(hashSlot('cart:2'));
    const error = await redlock
      .acquire(['cart:1', 'cart:2'], 5_000)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CrossSlotError);
    expect((error as CrossSlotError).code).toBe('CROSS_SLOT');
    expect((error as Error).message).toMatch(/hash tag/);
    expect(await cluster.get('cart:1')).toBeNull();
  });

  it('locks several resources that share a hash tag', async () => {
    const lock = await redlock.acquire(['{order:9}:items', '{order:9}:payment'], 5_000);
    expect(await cluster.get('{order:9}:payment')).toBe(lock.value);
    await expect(lock.release()).resolves.toBe(true);
  });

  it('fences a resource with a hash tag, whose counter shares its slot', async () => {
    const first = await redlock.acquire('{order:5}', 5_000, { fencing: true });
    await first.release();
    const second = await redlock.acquire('{order:5}', 5_000, { fencing: true });
    await second.release();
    expect([first.fencingToken, second.fencingToken]).toEqual([1n, 2n]);
    expect(await cluster.get(fencingCounterKey('{order:5}'))).toBe('2');
  });

  it('refuses to fence a resource without a hash tag, naming the fix', async () => {
    expect(hashSlot('order:6')).not.toBe(hashSlot(fencingCounterKey('order:6')));
    const error = await redlock
      .acquire('order:6', 5_000, { fencing: true })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CrossSlotError);
    expect((error as Error).message).toMatch(/With fencing.*"order:6".*hash tag/);
    expect(await cluster.get('order:6')).toBeNull();
  });

  it("leaves the caller's Cluster open after quit()", async () => {
    const other = new Redlock([cluster]);
    await other.quit();
    expect(cluster.status).toBe('ready');
  });
});
