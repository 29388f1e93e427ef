import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { Redlock } from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { RedisCluster } from '../support/redis-nodes.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * The release-notice subscriber after a reconnection: ioredis's own re-subscription sends
 * SUBSCRIBE with no handler, so a connection that dropped again before its reply rejected it
 * unhandled and ended the process (seen once in the fault suite). The engine subscribes again
 * itself, with a handler. (The unhandled-rejection check runs after each test.)
 */
describe('release notices after the subscriber reconnects (3 real nodes, one behind a proxy)', () => {
  let cluster: RedisCluster;
  let proxy: TcpProxy;
  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    proxy = await TcpProxy.start(cluster.servers[0].port);
  });
  afterAll(async () => {
    await proxy.close();
    await cluster.stop();
  });

  it('survives a close during the re-subscription, and quit() is bounded by a silent node', async () => {
    const nodes = [proxy.url, cluster.urls[1], cluster.urls[2]];
    const redlock = new Redlock(nodes, { retryCount: -1, retryDelayMs: 5_000, restartDelayMs: 0 });
    // A waiter subscribes to the resource's channel on every node.
    const holder = await redlock.acquire('resub:a', 10_000);
    const waiting = redlock.acquire('resub:a', 10_000).catch((error: unknown) => error);
    const subscriber = () =>
      (redlock as unknown as { nodes: { notices: { subscriber?: Redis } }[] }).nodes[0].notices
        .subscriber;
    await eventually(() => expect(subscriber()?.status).toBe('ready'));
    await new Promise((resolve) => setTimeout(resolve, 100));

    // The connection drops; the moment it is ready again, the node goes silent, so the
    // re-subscription gets no reply; then the engine closes.
    let silenced = false;
    subscriber()!.once('ready', () => {
      proxy.set({ kind: 'blackhole' });
      silenced = true;
    });
    proxy.reset();
    await eventually(() => expect(silenced).toBe(true), 5_000);
    const quitStartedAt = performance.now();
    await redlock.quit();
    expect(performance.now() - quitStartedAt).toBeLessThan(5_000);
    expect(await waiting).toMatchObject({ code: 'REDLOCK_CLOSED' });
    void holder;
    proxy.set({ kind: 'pass' });
  });
});
