import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  parseRedisUrl,
  QuorumUnavailableError,
  Redlock,
  ResourceLockedError,
} from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';

/**
 * Real faults on a minority and a majority of 5 nodes: SIGKILL (the connection closes) and
 * SIGSTOP (the connection stays open and nothing answers). The node timeout is set far above
 * localhost latency, so "well under the timeout" proves the quorum decided without waiting
 * for the faulty nodes.
 */
describe('quorum under node faults (5 nodes)', () => {
  const nodeTimeoutMs = 1_000;
  let cluster: RedisCluster;
  let probe: NodeProbe;
  let redlock: Redlock;

  const timed = async <T>(work: () => Promise<T>) => {
    const startedAt = performance.now();
    const outcome = await work().then(
      (value) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error }),
    );
    return { ...outcome, elapsedMs: performance.now() - startedAt };
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start(5);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
  });
  beforeEach(async () => {
    // Restarts here are about reconnecting and reloading scripts; restarts.spec covers the
    // delay before a restarted node counts again.
    redlock = new Redlock(cluster.urls, { nodeTimeoutMs, retryCount: 0, restartDelayMs: 0 });
    // Let every connection come up, as in a running service.
    const warm = await redlock.acquire('warm-up', 1_000);
    await eventually(async () =>
      expect(await probe.values('warm-up')).toEqual(Array(5).fill(warm.value)),
    );
    await warm.release();
  });
  afterEach(async () => {
    await redlock.quit();
    await cluster.heal();
    await probe.flush();
  });
  afterAll(async () => {
    await probe.quit();
    await cluster.stop();
  });

  const killed = async (count: number) => {
    await Promise.all(cluster.servers.slice(0, count).map((server) => server.kill()));
    // The client sees the connections close.
    await new Promise((resolve) => setTimeout(resolve, 100));
  };
  const paused = (count: number) =>
    cluster.servers.slice(0, count).forEach((server) => server.pause());

  it.each([1, 2])('grants with %i of 5 nodes killed, without waiting for them', async (count) => {
    await killed(count);
    const { value: lock, error, elapsedMs } = await timed(() => redlock.acquire('order:1', 5_000));
    expect(error).toBeUndefined();
    expect(lock?.validityMs).toBeGreaterThan(4_000);
    expect(elapsedMs).toBeLessThan(nodeTimeoutMs / 2);
    await expect(lock!.release()).resolves.toBe(true);
  });

  it('fails fast with QuorumUnavailableError when 3 of 5 nodes are killed', async () => {
    await killed(3);
    const { error, elapsedMs } = await timed(() => redlock.acquire('order:2', 5_000));
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    const unavailable = error as QuorumUnavailableError;
    expect(unavailable.code).toBe('QUORUM_UNAVAILABLE');
    expect(unavailable.quorum).toBe(3);
    expect(unavailable.nodeErrors).toHaveLength(3);
    expect(
      unavailable.nodeErrors.map((failure) => (failure.error as { code?: string }).code),
    ).toEqual(Array(3).fill('NODE_NOT_READY'));
    expect(elapsedMs).toBeLessThan(nodeTimeoutMs / 2);
    // The two live nodes got the clean-up release.
    expect((await probe.values('order:2')).slice(3)).toEqual([null, null]);
  });

  it.each([1, 2])(
    'grants with %i of 5 nodes paused (SIGSTOP), without waiting for them',
    async (count) => {
      paused(count);
      const {
        value: lock,
        error,
        elapsedMs,
      } = await timed(() => redlock.acquire('order:3', 5_000));
      expect(error).toBeUndefined();
      expect(elapsedMs).toBeLessThan(nodeTimeoutMs / 2);
      await expect(lock!.release()).resolves.toBe(true);
      // The paused nodes run the late acquire and then the release queued behind it.
      cluster.servers.forEach((server) => server.resume());
      await eventually(async () =>
        expect(await probe.values('order:3')).toEqual(Array(5).fill(null)),
      );
    },
  );

  it('gives up after nodeTimeoutMs when 3 of 5 nodes are paused, and leaves nothing behind', async () => {
    paused(3);
    const { error, elapsedMs } = await timed(() => redlock.acquire('order:4', 5_000));
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    const codes = (error as QuorumUnavailableError).nodeErrors.map(
      (failure) => (failure.error as { code?: string }).code,
    );
    expect(codes).toEqual(Array(3).fill('NODE_TIMEOUT'));
    // One timeout for the acquire, at most one more for the clean-up release on every node.
    expect(elapsedMs).toBeGreaterThanOrEqual(nodeTimeoutMs - 5);
    expect(elapsedMs).toBeLessThan(2 * nodeTimeoutMs + 500);
    cluster.servers.forEach((server) => server.resume());
    await eventually(async () =>
      expect(await probe.values('order:4')).toEqual(Array(5).fill(null)),
    );
  });

  it('releases after a minority failed, and resolves false without throwing after a majority failed', async () => {
    const first = await redlock.acquire('order:5', 5_000);
    await killed(2);
    await expect(first.release()).resolves.toBe(true);

    const second = await redlock.acquire('order:6', 5_000);
    await cluster.servers[2].kill();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lost: string[] = [];
    redlock.on('lost', (lock) => lost.push(lock.resources[0]));
    await expect(second.release()).resolves.toBe(false);
    expect(lost).toEqual(['order:6']);
  });

  it('reports a refusal, not an outage, when one node is down and the key is held elsewhere', async () => {
    const other = new Redlock(cluster.urls, { retryCount: 0 });
    try {
      await other.acquire('order:7', 5_000);
      await killed(1);
      await expect(redlock.acquire('order:7', 5_000)).rejects.toBeInstanceOf(ResourceLockedError);
    } finally {
      await other.quit();
    }
  });

  it('emits nodeError naming the failed node, and needs no listener for it', async () => {
    const seen: string[] = [];
    redlock.on('nodeError', (error, node) =>
      seen.push(`${node} ${(error as { code?: string }).code}`),
    );
    await killed(1);
    const lock = await redlock.acquire('order:10', 5_000);
    await lock.release();
    expect(seen).toContain(`127.0.0.1:${cluster.servers[0].port} NODE_NOT_READY`);
  });

  it.each([
    ['', {}],
    // ioredis rejects a command after commandTimeout but keeps it queued: still unanswered.
    [' (with a commandTimeout shorter than nodeTimeoutMs)', { commandTimeout: 20 }],
  ])(
    'sends a node that stopped answering no new acquire, and releases only to clean up the acquires it was sent%s',
    async (_, clientOptions) => {
      const quick = new Redlock(
        cluster.urls.map((url) => ({ ...parseRedisUrl(url), ...clientOptions })),
        { nodeTimeoutMs: 50, retryCount: 0 },
      );
      try {
        const warm = await quick.acquire('stall:warm', 1_000);
        await eventually(async () =>
          expect(await probe.values('stall:warm')).toEqual(Array(5).fill(warm.value)),
        );
        await warm.release();
        await eventually(async () =>
          expect(await probe.values('stall:warm')).toEqual(Array(5).fill(null)),
        );
        const scriptsBefore = (await probe.calls('evalsha'))[0];
        const setsBefore = (await probe.calls('set'))[0];
        paused(1);
        let ops = 0;
        // Holds stop after 50 ms of silence, releases after 1 s (releaseStallMs).
        const end = performance.now() + 2_500;
        while (performance.now() < end) {
          await (await quick.acquire(`stall:${ops}`, 5_000)).release();
          ops++;
        }
        cluster.servers[0].resume();
        // The acquires (plain SETs) sent in the first 50 ms land late, each with its release
        // behind it; no release goes for a lock whose acquire the node was never sent.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const releasesSent = (await probe.calls('evalsha'))[0] - scriptsBefore;
        const acquiresSent = (await probe.calls('set'))[0] - setsBefore;
        expect(ops).toBeGreaterThan(100);
        expect(acquiresSent).toBeLessThan(ops * 0.2);
        // Plus one: the lock whose acquire was the first the node was not sent (it began
        // before the stall was noticed, so its release cannot tell).
        expect(releasesSent).toBeLessThanOrEqual(acquiresSent + 1);
        const keys = Array.from({ length: ops }, (_, index) => `stall:${index}`);
        const left = await probe.at(0).exists(...keys);
        expect(left).toBe(0);
      } finally {
        await quick.quit();
      }
    },
  );

  it('a node whose command the client gave up on (commandTimeout) counts again once it answers', async () => {
    const quick = new Redlock(
      cluster.urls.map((url) => ({ ...parseRedisUrl(url), commandTimeout: 30 })),
      { nodeTimeoutMs: 50, retryCount: 0, restartDelayMs: 0 },
    );
    try {
      await (await quick.acquire('blip:warm', 1_000)).release();
      // Node 0 is slow once: the client gives up on its commands, which it answers later.
      paused(1);
      await (await quick.acquire('blip:0', 1_000)).release();
      await new Promise((resolve) => setTimeout(resolve, 100));
      cluster.servers[0].resume();
      // Then nothing is sent for longer than any stall limit.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      await eventually(async () => {
        const lock = await quick.acquire('blip:1', 1_000);
        try {
          expect(await probe.at(0).get('blip:1')).toBe(lock.value);
        } finally {
          await lock.release();
        }
      }, 2_000);
    } finally {
      await quick.quit();
    }
  });

  it('a health check that timed out leaves nothing unhandled when its node then dies', async () => {
    paused(1);
    const health = await redlock.health();
    expect(health.nodes[0]).toMatchObject({ up: false, problem: 'timeout' });
    // The node dies: the connection closes, and the probe still queued on it is rejected,
    // after its health check gave up on it. (The unhandled-rejection check runs after each test.)
    await killed(1);
  });

  it('works again once killed nodes come back (their script cache is empty)', async () => {
    await killed(3);
    await expect(redlock.acquire('order:8', 5_000)).rejects.toBeInstanceOf(QuorumUnavailableError);
    await cluster.heal();
    await eventually(async () => {
      const lock = await redlock.acquire('order:8', 5_000);
      await lock.release();
    }, 5_000);
  });

  it('runs its scripts again after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    await Promise.all(cluster.servers.map((_, index) => probe.at(index).script('FLUSH')));
    const lock = await redlock.acquire('order:9', 5_000);
    const holders = (await probe.values('order:9')).filter((value) => value === lock.value);
    expect(holders.length).toBeGreaterThanOrEqual(3);
    await expect(lock.release()).resolves.toBe(true);
  });
});
