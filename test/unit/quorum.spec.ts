import { describe, expect, it } from '@jest/globals';
import { collectVotes, type Ballot } from '../../lib/core/nodes/quorum.js';
import type { RedisNode } from '../../lib/core/nodes/redis-node.js';

/**
 * The quorum tally on fake nodes: each node's reply is a promise the test settles by hand, so
 * that every order of answers can be played. (The engine's behaviour on real nodes is tested
 * against real redis-server processes; this is the counting alone.)
 */
interface FakeNode {
  readonly node: RedisNode;
  grant(): void;
  refuse(): void;
  fail(message: string): void;
  /** Whether the ballot still wanted the command when it was sent (its `stillWanted`). */
  stillWanted(): boolean;
}

function fakeNodes(count: number): FakeNode[] {
  return Array.from({ length: count }, (_, index) => {
    let settle!: { resolve: (reply: number) => void; reject: (error: Error) => void };
    let wanted: () => boolean = () => false;
    const reply = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
    const node = { label: `n${index}`, reply, setWanted: (w: () => boolean) => (wanted = w) };
    return {
      node: node as unknown as RedisNode,
      grant: () => settle.resolve(1),
      refuse: () => settle.resolve(0),
      fail: (message) => settle.reject(new Error(message)),
      stillWanted: () => wanted(),
    };
  });
}

function ballot(
  fakes: FakeNode[],
  overrides: Partial<Ballot<number>> = {},
): Ballot<number> & { failures: string[] } {
  const failures: string[] = [];
  return {
    nodes: fakes.map((fake) => fake.node),
    quorum: Math.floor(fakes.length / 2) + 1,
    timeoutMs: 200,
    send: (node, stillWanted) => {
      const fake = node as unknown as {
        reply: Promise<number>;
        setWanted: (w: () => boolean) => void;
      };
      fake.setWanted(stillWanted);
      return fake.reply;
    },
    isYes: (reply) => reply === 1,
    onFailure: (error, node) => failures.push(`${node.label}: ${error.message}`),
    failures,
    ...overrides,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('collectVotes (the quorum tally) on fake nodes', () => {
  it('decides once a majority granted, without the last node; counts it later', async () => {
    const nodes = fakeNodes(3);
    const tally = collectVotes(ballot(nodes));
    nodes[0].grant();
    nodes[2].grant();
    const decided = await tally;
    expect({ yes: decided.yes, no: decided.no, failures: decided.failures }).toEqual({
      yes: 2,
      no: 0,
      failures: [],
    });
    // The decision closes the ballot: a command not sent yet is no longer wanted.
    expect(nodes[1].stillWanted()).toBe(false);
    nodes[1].grant();
    await expect(decided.late()).resolves.toEqual({ yes: 1, failed: 0 });
  });

  it('decides as soon as a majority is out of reach (refusals and failures count alike)', async () => {
    const nodes = fakeNodes(5);
    const setup = ballot(nodes);
    const tally = collectVotes(setup);
    nodes[0].refuse();
    nodes[1].fail('ECONNREFUSED');
    nodes[2].refuse();
    const decided = await tally;
    expect(decided.yes).toBe(0);
    expect(decided.no).toBe(2);
    expect(decided.failures.map((failure) => failure.node)).toEqual(['n1']);
    expect(setup.failures).toEqual(['n1: ECONNREFUSED']);
    // The two nodes left answer after the decision: their grants are late, and reported.
    nodes[3].grant();
    nodes[4].fail('late');
    await expect(decided.late()).resolves.toEqual({ yes: 1, failed: 1 });
    expect(setup.failures).toEqual(['n1: ECONNREFUSED', 'n4: late']);
  });

  it('counts a node that has not answered within timeoutMs as failed (NODE_TIMEOUT)', async () => {
    const nodes = fakeNodes(3);
    const startedAt = performance.now();
    const tally = collectVotes(ballot(nodes, { timeoutMs: 50 }));
    nodes[0].grant();
    const decided = await tally;
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(45);
    expect(decided.yes).toBe(1);
    expect(decided.failures.map((failure) => (failure.error as { code?: string }).code)).toEqual([
      'NODE_TIMEOUT',
      'NODE_TIMEOUT',
    ]);
    // Still silent when late() is asked: they count as failed at the ballot's timeout.
    await expect(decided.late()).resolves.toEqual({ yes: 0, failed: 2 });
  });

  it('turns a vetoed grant into a failure (a node that just restarted)', async () => {
    const nodes = fakeNodes(3);
    const tally = collectVotes(
      ballot(nodes, {
        veto: (node) => (node.label === 'n0' ? new Error('n0 restarted') : undefined),
      }),
    );
    nodes[0].grant();
    nodes[1].grant();
    await tick();
    nodes[2].refuse();
    const decided = await tally;
    expect(decided.yes).toBe(1);
    expect(decided.no).toBe(1);
    expect(decided.failures.map((failure) => failure.error.message)).toEqual(['n0 restarted']);
  });

  it('with settleAll, waits for every node even after a majority granted', async () => {
    const nodes = fakeNodes(3);
    let decided = false;
    const tally = collectVotes(ballot(nodes, { settleAll: true })).then((result) => {
      decided = true;
      return result;
    });
    nodes[0].grant();
    nodes[1].grant();
    await tick();
    expect(decided).toBe(false);
    nodes[2].refuse();
    const result = await tally;
    expect({ yes: result.yes, no: result.no }).toEqual({ yes: 2, no: 1 });
  });

  it('a send that throws synchronously counts as that node failing, not as a crash', async () => {
    const nodes = fakeNodes(3);
    const setup = ballot(nodes);
    const tally = collectVotes({
      ...setup,
      send: (node, stillWanted) => {
        if (node.label === 'n1') throw new Error('boom');
        return setup.send(node, stillWanted);
      },
    });
    nodes[0].grant();
    nodes[2].grant();
    const decided = await tally;
    expect(decided.yes).toBe(2);
    await expect(decided.late()).resolves.toEqual({ yes: 0, failed: 0 });
  });
});
