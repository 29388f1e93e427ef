import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LockLostError, QuorumUnavailableError, Redlock } from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { useRedisNodes } from '../support/test-bed.js';

/**
 * An extension that fails for want of answers may still land on the nodes that did not answer
 * in time. With a shorter ttl it shortens the keys there, so the holder must not go on
 * believing the old validity. Two of three nodes are 300 ms away through proxies, past the
 * 100 ms node timeout.
 */
describe('a failed extend with a shorter ttl', () => {
  const bed = useRedisNodes(3);
  let proxies: TcpProxy[];
  let holder: Redlock;

  beforeEach(async () => {
    proxies = await Promise.all(
      [1, 2].map((index) => TcpProxy.start(bed.cluster.servers[index].port)),
    );
    holder = new Redlock([bed.cluster.urls[0], ...proxies.map((proxy) => proxy.url)], {
      retryCount: 0,
      nodeTimeoutMs: 100,
    });
  });
  afterEach(async () => {
    await holder.quit();
    await Promise.all(proxies.map((proxy) => proxy.close()));
  });

  it('leaves the lock no more validity than the extension would have given', async () => {
    const lock = await holder.acquire('job:shorten', 10_000);
    for (const proxy of proxies) proxy.set({ kind: 'latency', ms: 300 });
    await expect(lock.extend(500)).rejects.toBeInstanceOf(QuorumUnavailableError);
    expect(lock.validityMs).toBeLessThanOrEqual(500);
    // Why: the late PEXPIREs land, and a majority of the keys is gone within the new ttl.
    await eventually(async () => {
      const ttls = await bed.probe.ttls('job:shorten');
      expect(ttls.slice(1).every((ttl) => ttl !== undefined && ttl <= 500)).toBe(true);
    });
    const other = bed.make({ retryCount: 20, retryDelayMs: 50 });
    await expect(other.acquire('job:shorten', 1_000)).resolves.toBeDefined();
  });

  it('keeps the current validity when a failed extension would have given more', async () => {
    const lock = await holder.acquire('job:longer', 2_000);
    for (const proxy of proxies) proxy.set({ kind: 'latency', ms: 300 });
    await expect(lock.extend(60_000)).rejects.toBeInstanceOf(QuorumUnavailableError);
    expect(lock.validityMs).toBeGreaterThan(1_000);
    expect(lock.validityMs).toBeLessThanOrEqual(2_000);
  });
});

/**
 * An extension re-creates missing keys, so one that reaches the nodes after the lock's keys
 * lapsed would succeed there: the holder must still learn that it did not hold the lock
 * throughout. Every node is 450 ms away each way; the lock's ttl is 400 ms.
 */
describe('an extend decided after the lock ran out', () => {
  const bed = useRedisNodes(3);

  it('rejects with LockLostError, although the nodes re-created the keys', async () => {
    const proxies = await Promise.all(
      bed.cluster.servers.map((server) => TcpProxy.start(server.port)),
    );
    const holder = new Redlock(
      proxies.map((proxy) => proxy.url),
      { retryCount: 0, nodeTimeoutMs: 2_000 },
    );
    try {
      const lock = await holder.acquire('job:late', 400);
      for (const proxy of proxies) proxy.set({ kind: 'latency', ms: 450 });
      await expect(lock.extend(5_000)).rejects.toBeInstanceOf(LockLostError);
      expect(lock.validityMs).toBe(0);
    } finally {
      await holder.quit();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    }
  });
});
