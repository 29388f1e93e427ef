import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Redlock } from '../../lib/index.js';
import { RedisServer } from '../support/redis-nodes.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { createNoScriptsUser } from '../support/acl-users.js';

/**
 * Nodes that take SET but refuse this client's scripts (an ACL without EVALSHA and EVAL): the
 * plain first attempt of an acquire would be granted there, and its release would fail, so the
 * key stayed held for its ttl. Each connection's probe finds it out before any hold is sent.
 */
describe('a node that takes SET but refuses scripts', () => {
  const servers: RedisServer[] = [];
  const admins: Redis[] = [];
  const url = (server: RedisServer) => `redis://noscripts:pw@127.0.0.1:${server.port}`;
  const quiet = (redlock: Redlock) => {
    for (const event of ['warning', 'nodeDown', 'nodeError'] as const) {
      redlock.on(event, () => undefined);
    }
    return redlock;
  };

  beforeAll(async () => {
    for (let index = 0; index < 3; index++) {
      const server = await RedisServer.start();
      servers.push(server);
      const admin = new Redis(server.port, '127.0.0.1');
      admins.push(admin);
      await createNoScriptsUser(admin);
    }
  });
  afterAll(async () => {
    await Promise.all(admins.map((admin) => admin.quit()));
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('grants nothing to an acquire sent right behind the probe of a new connection', async () => {
    // The probe's reply and the acquire's come in one read: the grant must not count first.
    const proxies = await Promise.all(servers.map((server) => TcpProxy.start(server.port)));
    for (const proxy of proxies) proxy.set({ kind: 'batch', ms: 20 });
    const redlock = quiet(
      new Redlock(
        proxies.map((proxy) => `redis://noscripts:pw@127.0.0.1:${proxy.port}`),
        { retryCount: 0, nodeTimeoutMs: 500 },
      ),
    );
    await expect(redlock.acquire('refused:first', 10_000)).rejects.toMatchObject({
      code: 'QUORUM_UNAVAILABLE',
    });
    // The connections drop; the acquire goes out as soon as the last one is ready again, in
    // the same write as its probe or just behind it.
    const clients = (redlock as unknown as { nodes: { client: Redis }[] }).nodes.map(
      (node) => node.client,
    );
    let ready = 0;
    const outcome = new Promise<unknown>((resolve) => {
      for (const client of clients) {
        client.on('ready', () => {
          if (++ready === clients.length) {
            redlock.acquire('refused:again', 10_000).then(resolve, resolve);
          }
        });
      }
    });
    for (const proxy of proxies) proxy.reset();
    // Its SETs may have landed (they went out before the probe's answer), but never count.
    expect(await outcome).toMatchObject({ code: 'QUORUM_UNAVAILABLE' });
    await redlock.quit();
    await Promise.all(proxies.map((proxy) => proxy.close()));
  });

  it('sends no hold to such a node, so no lock leaves a key there', async () => {
    const urls = [url(servers[0]), ...servers.slice(1).map((s) => `redis://127.0.0.1:${s.port}`)];
    const redlock = quiet(new Redlock(urls, { retryCount: 0, nodeTimeoutMs: 500 }));
    // Connected and probed: the probe's verdict on the first node is in. (A first acquire may
    // race the probe, as above, and its quorum of the two other nodes may come back before it.)
    const refused = new Promise<Error>((resolve) =>
      redlock.on('nodeDown', (_node, error) => resolve(error)),
    );
    // Retried: on a loaded machine, the new connections may miss a first 500 ms deadline.
    await (await redlock.acquire('refused:warm', 10_000, { retryCount: 20 })).release();
    expect(await refused).toMatchObject({ code: 'NODE_MISCONFIGURED' });
    const lock = await redlock.acquire('refused:one', 10_000);
    await expect(redlock.release(lock)).resolves.toBe(true);
    expect(await Promise.all(admins.map((admin) => admin.pttl('refused:one')))).toEqual([
      -2, -2, -2,
    ]);
    await redlock.quit();
  });
});
