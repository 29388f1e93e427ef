import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redlock, type RedlockOptions, type ResourceLockedError } from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';
import { useRedisNodes } from '../support/test-bed.js';

/** A Redlock whose connections are all up and whose nodes' run_ids are known. */
async function connected(make: (options?: RedlockOptions) => Redlock, options?: RedlockOptions) {
  const redlock = make(options);
  // Every connection up (an acquire may decide before the last one): PING on each node
  // answers after the INFO that reads its run_id.
  await eventually(async () => expect((await redlock.health()).up).toBe(3));
  return redlock;
}

/**
 * The first restart of `node` the engine reports: for how long it does not count, and when
 * (monotonic ms) it was reported, read in the listener itself, which the engine calls right
 * after setting the node's uncounted window (a read after an `await` could come later on a
 * busy machine, and make the window look short).
 */
function noticedRestart(redlock: Redlock, node: string) {
  return new Promise<{ uncountedForMs: number; noticedAt: number }>((resolve) =>
    redlock.on('nodeRestarted', (restarted, uncountedForMs) => {
      if (restarted === node) resolve({ uncountedForMs, noticedAt: performance.now() });
    }),
  );
}

describe('a node that restarts without its data (3 nodes, no persistence)', () => {
  const bed = useRedisNodes(3, { retryCount: 0 });
  const label = (index: number) => `127.0.0.1:${bed.cluster.servers[index].port}`;
  afterEach(() => bed.cluster.heal());

  /**
   * The holder's key survives on node 0 only: node 2 never had it (planted away) and node 1
   * restarts empty. Nodes 1 and 2 are then a majority that would grant the lock again.
   */
  const holdThenRestartNode1 = async (contender: Redlock) => {
    const holder = await connected(bed.make);
    const lock = await holder.acquire('order:1', 10_000);
    // The acquire decided at a quorum; let the third grant land before taking it away.
    await eventually(async () =>
      expect(await bed.probe.values('order:1')).toEqual(Array(3).fill(lock.value)),
    );
    await bed.probe.at(2).del('order:1');
    const noticed = noticedRestart(contender, label(1));
    await bed.cluster.servers[1].restart();
    return { lock, noticed };
  };

  it('does not count its vote, so a held lock is not granted twice', async () => {
    const contender = await connected(bed.make);
    const { lock, noticed } = await holdThenRestartNode1(contender);
    const { uncountedForMs } = await noticed;
    expect(uncountedForMs).toBeGreaterThanOrEqual(59_000);
    expect(uncountedForMs).toBeLessThanOrEqual(60_000);

    const attempt = contender.acquire('order:1', 10_000);
    await expect(attempt).rejects.toMatchObject({ code: 'RESOURCE_LOCKED' });
    // The refusal says why, node by node (node 2 may not have answered before the decision).
    const { votes } = (await attempt.catch((error: unknown) => error)) as ResourceLockedError;
    expect(votes[0]).toEqual({ node: label(0), vote: 'against' });
    expect(votes[1]).toMatchObject({
      node: label(1),
      vote: 'not counted',
      error: { code: 'NODE_RESTARTED' },
    });
    expect(['for', 'pending']).toContain(votes[2].vote);
    // Nodes 1 and 2 granted; the failed attempt released both again.
    await eventually(async () =>
      expect(await bed.probe.values('order:1')).toEqual([lock.value, null, null]),
    );
    expect(lock.validityMs).toBeGreaterThan(0);
  });

  it('grants it twice with restartDelayMs: 0 (the failure the delay prevents)', async () => {
    const contender = await connected(bed.make, { restartDelayMs: 0 });
    const { lock } = await holdThenRestartNode1(contender);
    const second = await eventually(() => contender.acquire('order:1', 10_000), 10_000);
    expect(lock.validityMs).toBeGreaterThan(0);
    expect(second.value).not.toBe(lock.value);
  });

  /** Readers hold `doc:1` on node 0 only: node 2 lost them (planted away), node 1 restarts. */
  const readThenRestartNode1 = async (writer: Redlock) => {
    const reader = await connected(bed.make);
    const lock = await reader.acquireRead('doc:1', 10_000);
    await eventually(async () =>
      expect(await bed.probe.values('doc:1')).toEqual(Array(3).fill('!readers')),
    );
    await bed.probe.at(2).del('doc:1', 'doc:1:redlock:readers');
    const noticed = noticedRestart(writer, label(1));
    await bed.cluster.servers[1].restart();
    return { lock, noticed };
  };

  it('keeps a writer out of a resource readers hold when a node restarts empty', async () => {
    const writer = await connected(bed.make);
    const { lock, noticed } = await readThenRestartNode1(writer);
    await noticed;
    await expect(writer.acquire('doc:1', 10_000)).rejects.toMatchObject({
      code: 'RESOURCE_LOCKED',
    });
    expect(lock.validityMs).toBeGreaterThan(0);
  });

  it('lets that writer in beside the readers with restartDelayMs: 0 (the failure the delay prevents)', async () => {
    const writer = await connected(bed.make, { restartDelayMs: 0 });
    const { lock } = await readThenRestartNode1(writer);
    const second = await eventually(() => writer.acquire('doc:1', 10_000), 10_000);
    expect(lock.validityMs).toBeGreaterThan(0);
    expect(second.mode).toBe('write');
  });

  /**
   * The only permit of `sem:1` is held on node 0 only: node 2 lost its slot (planted away) and
   * node 1 restarts empty, so nodes 1 and 2 have the slot free.
   */
  const permitThenRestartNode1 = async (contender: Redlock) => {
    const holder = await connected(bed.make);
    const permit = await holder.acquireSemaphore('sem:1', 1, 10_000);
    const slot = 'sem:1:redlock:permit:0';
    await eventually(async () =>
      expect(await bed.probe.values(slot)).toEqual(Array(3).fill(permit.value)),
    );
    await bed.probe.at(2).del(slot, 'sem:1');
    const noticed = noticedRestart(contender, label(1));
    await bed.cluster.servers[1].restart();
    return { permit, noticed };
  };

  it('keeps a semaphore at its limit when a node restarts empty', async () => {
    const contender = await connected(bed.make);
    const { permit, noticed } = await permitThenRestartNode1(contender);
    await noticed;
    await expect(contender.acquireSemaphore('sem:1', 1, 10_000)).rejects.toMatchObject({
      code: 'RESOURCE_LOCKED',
      limit: 1,
    });
    expect(permit.validityMs).toBeGreaterThan(0);
  });

  it('grants a second permit of 1 with restartDelayMs: 0 (the failure the delay prevents)', async () => {
    const contender = await connected(bed.make, { restartDelayMs: 0 });
    const { permit } = await permitThenRestartNode1(contender);
    const second = await eventually(() => contender.acquireSemaphore('sem:1', 1, 10_000), 10_000);
    expect(permit.validityMs).toBeGreaterThan(0);
    expect(second.slot).toBe(permit.slot);
  });

  it('counts the node again restartDelayMs after its start, and says why until then', async () => {
    const redlock = await connected(bed.make, { restartDelayMs: 1_500 });
    const noticed = noticedRestart(redlock, label(1));
    await bed.cluster.servers[1].restart();
    const { uncountedForMs, noticedAt } = await noticed;
    expect(uncountedForMs).toBeGreaterThan(0);
    expect(uncountedForMs).toBeLessThanOrEqual(1_500);
    await bed.cluster.servers[2].kill();

    // Node 0 alone counts now: no quorum, and the error names the restarted node.
    const refused = await redlock.acquire('order:2', 5_000).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'QUORUM_UNAVAILABLE' });
    const failures = (refused as { nodeErrors: { node: string; error: Error }[] }).nodeErrors;
    expect(failures).toContainEqual({
      node: label(1),
      error: expect.objectContaining({
        code: 'NODE_RESTARTED',
        message: expect.stringMatching(/count again in \d+ ms \(restartDelayMs\)/),
      }),
    });
    const lock = await eventually(() => redlock.acquire('order:2', 5_000), 5_000);
    // Not before the delay is over (that is the safety), and not much after (a loaded machine
    // may add a few polls).
    const sinceNoticed = performance.now() - noticedAt;
    expect(sinceNoticed).toBeGreaterThanOrEqual(uncountedForMs - 5);
    expect(sinceNoticed).toBeLessThanOrEqual(uncountedForMs + 500);
    await lock.release();
  });

  it('does not delay nodes that are merely reconnected (same run_id)', async () => {
    const redlock = await connected(bed.make, { restartDelayMs: 60_000 });
    const restarts: string[] = [];
    redlock.on('nodeRestarted', (node) => restarts.push(node));
    // With node 2 gone, a lock needs node 1's vote.
    await bed.cluster.servers[2].kill();
    await bed.probe.at(1).client('KILL', 'TYPE', 'normal');
    await eventually(async () => (await redlock.acquire('order:3', 5_000)).release(), 5_000);
    expect(restarts).toEqual([]);
  });
});

describe('fencing tokens while a minority of nodes restarts (5 nodes, AOF always)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  beforeAll(async () => {
    cluster = await RedisCluster.start(5, { appendOnly: true });
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
  });
  afterAll(async () => {
    await probe.quit();
    await cluster.stop();
  });

  it('strictly increase over serial grants from three clients', async () => {
    // Persisted nodes keep their counters, so they may count again at once.
    const clients = [0, 1, 2].map(
      () => new Redlock(cluster.urls, { fencing: true, restartDelayMs: 0, retryCount: 50 }),
    );
    try {
      const tokens: bigint[] = [];
      for (let round = 0; round < 24; round++) {
        if (round % 4 === 0) await cluster.servers[(round / 4) % 5].restart();
        const lock = await clients[round % 3].acquire('order:9', 5_000);
        tokens.push(lock.fencingToken!);
        await lock.release();
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
    } finally {
      await Promise.all(clients.map((client) => client.quit()));
    }
  });
});
