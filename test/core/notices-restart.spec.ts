import { afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisNode, type RedisNodeSettings } from '../../lib/core/nodes/redis-node.js';
import { inboxChannel } from '../../lib/core/scripts/keys.js';
import { Waiter } from '../../lib/core/acquire/waiter.js';
import { NodeClocks } from '../../lib/core/acquire/node-clocks.js';
import { newLockValue } from '../../lib/core/acquire/lock-value.js';
import { eventually } from '../support/eventually.js';
import { useRedisNodes } from '../support/test-bed.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Hand-off notices arrive on the subscriber connection, apart from the lock connection that
 * checks whether a node restarted. A notice counts only if the node's votes would count when
 * it arrives, and never later. The engine's own parts (RedisNode, Waiter) on real nodes; the
 * notices are published by hand, as a release would.
 */
describe('hand-off notices from a node whose votes do not count (3 nodes)', () => {
  const bed = useRedisNodes(3);
  const nodes: RedisNode[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.close()));
    for (const client of clients.splice(0)) client.disconnect();
    await bed.cluster.heal();
  });

  async function waiterOver(restartDelayMs: number) {
    const restarted: string[] = [];
    const settings: RedisNodeSettings = {
      onError: () => undefined,
      stallAfterMs: 250,
      restartDelayMs,
      onRestart: (node) => restarted.push(node),
      onWarning: () => undefined,
      onDown: () => undefined,
      onUp: () => undefined,
      evictingNodes: 'refuse',
    };
    const made = bed.cluster.servers.map((server, index) => {
      // Caller-owned clients, so that the test can cut the lock connection alone.
      const client = new Redis(server.port, '127.0.0.1', {
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        retryStrategy: () => 300,
      });
      clients.push(client);
      return RedisNode.from(client, index, settings);
    });
    nodes.push(...made);
    await eventually(() =>
      expect(made.every((node) => node.uncountedReason() === undefined)).toBe(true),
    );
    const waiter = new Waiter(
      {
        nodes: made,
        quorum: 2,
        resources: ['job:n'],
        handOffTtlMs: 5_000,
        takesLockItself: false,
        newValue: newLockValue,
        inbox: 'inbox1',
        clocks: new NodeClocks(3),
      },
      'value1',
    );
    waiter.listen();
    waiter.subscribe();
    const channel = inboxChannel('', 'job:n', 'inbox1');
    await eventually(async () => {
      for (const index of [0, 1, 2]) {
        const [, count] = (await bed.probe.at(index).pubsub('NUMSUB', channel)) as [string, number];
        expect(count).toBe(1);
      }
    });
    const announce = (index: number) => bed.probe.at(index).publish(channel, 'value1');
    return { waiter, announce, restarted };
  }

  it('does not count a notice while the node’s lock connection is down', async () => {
    const { waiter, announce } = await waiterOver(60_000);
    clients[1].disconnect(true); // the lock connection drops and reconnects; the subscriber stays
    await announce(0);
    await announce(1);
    await sleep(50);
    expect(waiter.handedByQuorum()).toBe(false);
    waiter.stop();
  });

  it('never counts a notice that arrived inside the restart window, even after it', async () => {
    const { waiter, announce, restarted } = await waiterOver(400);
    await bed.cluster.servers[1].restart();
    await eventually(() => expect(restarted).toHaveLength(1), 5_000);
    // Re-subscribed on the restarted node.
    await eventually(async () => {
      const channel = inboxChannel('', 'job:n', 'inbox1');
      const [, count] = (await bed.probe.at(1).pubsub('NUMSUB', channel)) as [string, number];
      expect(count).toBe(1);
    }, 5_000);
    await announce(0);
    await announce(1);
    await sleep(50);
    expect(waiter.handedByQuorum()).toBe(false);
    await sleep(600); // the window is over
    expect(nodes[1].uncountedReason()).toBeUndefined();
    expect(waiter.handedByQuorum()).toBe(false);
    // A notice from after the window counts.
    await announce(2);
    await eventually(() => expect(waiter.handedByQuorum()).toBe(true));
    waiter.stop();
  });
});
