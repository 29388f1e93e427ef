import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  NodeMayEvictError,
  QuorumUnavailableError,
  Redlock,
  type RedlockOptions,
  type RedlockWarning,
} from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';

/**
 * Nodes that may evict keys (maxmemory with an evicting policy, as many managed offerings
 * have): a lock key evicted while held lets a second holder in, so by default their votes do
 * not count, and every Redlock says so, naming the fix.
 */
describe('nodes that may evict lock keys (3 nodes, maxmemory with volatile-lru)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  const redlocks: Redlock[] = [];
  const make = (options: RedlockOptions = {}) => {
    const redlock = new Redlock(cluster.urls, { retryCount: 0, ...options });
    redlocks.push(redlock);
    const warnings: RedlockWarning[] = [];
    redlock.on('warning', (warning) => warnings.push(warning));
    return { redlock, warnings };
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start(3, {
      args: ['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru'],
    });
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
  });
  afterEach(async () => {
    await Promise.all(redlocks.splice(0).map((redlock) => redlock.quit()));
    await Promise.all(
      [0, 1, 2].map((index) => probe.at(index).config('SET', 'maxmemory-policy', 'volatile-lru')),
    );
    await probe.flush();
  });
  afterAll(async () => {
    await probe.quit();
    await cluster.stop();
  });

  it('refuses their votes by default, with an error and a warning that name the fix', async () => {
    const { redlock, warnings } = make();
    const error = await redlock.acquire('job:evict', 1_000).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    const nodeErrors = (error as QuorumUnavailableError).nodeErrors.map(({ error }) => error);
    expect(nodeErrors.length).toBeGreaterThanOrEqual(2); // decided once a quorum was out of reach
    for (const nodeError of nodeErrors) {
      expect(nodeError).toBeInstanceOf(NodeMayEvictError);
      expect(nodeError.message).toMatch(/maxmemory-policy volatile-lru.*noeviction/);
    }
    await eventually(() => expect(warnings).toHaveLength(3));
    expect(warnings.map((warning) => warning.code)).toEqual(Array(3).fill('NODE_MAY_EVICT'));
    expect(warnings[0].message).toMatch(/CONFIG SET maxmemory-policy noeviction/);
    // The grants it did not count were cleaned up.
    await eventually(async () =>
      expect(await probe.values('job:evict')).toEqual([null, null, null]),
    );
  });

  it('reports them down in health(), and counts them once their policy is fixed', async () => {
    const { redlock } = make();
    const before = await redlock.health();
    expect(before.quorumReachable).toBe(false);
    expect(before.nodes[0].error).toMatch(/may evict lock keys/);
    await Promise.all(
      [0, 1, 2].map((index) => probe.at(index).config('SET', 'maxmemory-policy', 'noeviction')),
    );
    const after = await redlock.health();
    expect(after.quorumReachable).toBe(true);
    await expect(redlock.acquire('job:fixed', 1_000)).resolves.toBeDefined();
  });

  it("counts them with evictingNodes: 'warn', still warning, and health shows it", async () => {
    const { redlock, warnings } = make({ evictingNodes: 'warn' });
    await expect(redlock.acquire('job:warned', 1_000)).resolves.toBeDefined();
    await eventually(() => expect(warnings).toHaveLength(3));
    expect(warnings[0].message).toMatch(/count all the same/);
    const health = await redlock.health();
    expect(health.quorumReachable).toBe(true);
    expect(health.nodes[0].warning).toMatch(/maxmemory-policy volatile-lru/);
  });

  it('says nothing of nodes with noeviction', async () => {
    await Promise.all(
      [0, 1, 2].map((index) => probe.at(index).config('SET', 'maxmemory-policy', 'noeviction')),
    );
    const { redlock, warnings } = make();
    await expect(redlock.acquire('job:quiet', 1_000)).resolves.toBeDefined();
    expect(warnings).toEqual([]);
  });

  it('rejects an unknown evictingNodes value', () => {
    expect(() => new Redlock(cluster.urls, { evictingNodes: 'ignore' as never })).toThrow(
      /`evictingNodes` to be 'refuse' or 'warn'/,
    );
  });
});
