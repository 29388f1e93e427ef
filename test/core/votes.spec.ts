import { describe, expect, it } from '@jest/globals';
import {
  isLockError,
  LockLostError,
  QuorumUnavailableError,
  Redlock,
  ResourceLockedError,
} from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { useRedisNodes } from '../support/test-bed.js';

/**
 * Per-node votes on the errors of a failed operation: what each node answered to the last
 * attempt, in node order, so that a refusal can be debugged without guessing.
 */
describe('votes on the errors of a failed operation (3 nodes)', () => {
  const bed = useRedisNodes(3, { retryCount: 0 });
  const label = (index: number) => `127.0.0.1:${bed.cluster.servers[index].port}`;

  it('ResourceLockedError: the nodes holding the key voted against', async () => {
    // Another holder has the key on nodes 0 and 1; node 2 is free.
    for (const node of [0, 1]) await bed.probe.at(node).set('votes:held', 'other', 'PX', 10_000);
    const error = await bed
      .make()
      .acquire('votes:held', 5_000)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceLockedError);
    const { votes } = error as ResourceLockedError;
    expect(votes.map(({ node }) => node)).toEqual([label(0), label(1), label(2)]);
    expect(votes[0]).toEqual({ node: label(0), vote: 'against' });
    expect(votes[1]).toEqual({ node: label(1), vote: 'against' });
    // Granted, or not yet answered when the two refusals decided it.
    expect(['for', 'pending']).toContain(votes[2].vote);
  });

  it('QuorumUnavailableError: the nodes that failed say why', async () => {
    const redlock = new Redlock(
      [bed.cluster.urls[0], 'redis://127.0.0.1:1', 'redis://127.0.0.1:2'],
      { retryCount: 0, nodeTimeoutMs: 500 },
    );
    try {
      await eventually(async () => expect((await redlock.health()).up).toBe(1));
      const error = await redlock.acquire('votes:down', 5_000).catch((e: unknown) => e);
      expect(isLockError(error, 'QUORUM_UNAVAILABLE')).toBe(true);
      const { votes } = error as QuorumUnavailableError;
      expect(votes.map(({ node }) => node)).toEqual([label(0), '127.0.0.1:1', '127.0.0.1:2']);
      expect(['for', 'pending']).toContain(votes[0].vote);
      for (const vote of votes.slice(1)) {
        expect(vote.vote).toBe('failed');
        expect(vote.error).toBeInstanceOf(Error);
      }
    } finally {
      await redlock.quit();
    }
  });

  it('LockLostError of an extension: the nodes that no longer hold it voted against', async () => {
    const redlock = bed.make();
    const lock = await redlock.acquire('votes:lost', 5_000);
    await eventually(async () =>
      expect(await bed.probe.values('votes:lost')).toEqual(Array(3).fill(lock.value)),
    );
    // Taken from nodes 0 and 1 (a restart, an eviction): a quorum no longer holds it.
    for (const node of [0, 1]) await bed.probe.at(node).set('votes:lost', 'other', 'PX', 10_000);
    const error = await redlock.extend(lock, 5_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    const { votes } = error as LockLostError;
    expect(votes[0]).toEqual({ node: label(0), vote: 'against' });
    expect(votes[1]).toEqual({ node: label(1), vote: 'against' });
    expect(['for', 'pending']).toContain(votes[2].vote);
  });
});
