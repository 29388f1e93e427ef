import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { QuorumUnavailableError, Redlock } from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { freePort, RedisServer } from '../support/redis-nodes.js';
import { watchTimers } from '../support/timer-watch.js';

describe('node specs and connection ownership', () => {
  let servers: RedisServer[];
  let secured: RedisServer;
  let probe: NodeProbe;

  const connectedClients = async (index: number) => {
    const info = await probe.at(index).info('clients');
    return Number(/connected_clients:(\d+)/.exec(info)?.[1]);
  };

  beforeAll(async () => {
    servers = await Promise.all([RedisServer.start(), RedisServer.start(), RedisServer.start()]);
    secured = await RedisServer.start({ args: ['--requirepass', 's3cr:et'] });
    probe = new NodeProbe(servers);
    await probe.connect();
  });
  afterAll(async () => {
    await probe.quit();
    await Promise.all([...servers, secured].map((server) => server.stop()));
  });

  it('takes URLs, ioredis options and instances side by side, and closes only its own', async () => {
    const mine = new Redis({ port: servers[2].port, host: '127.0.0.1' });
    await mine.ping();
    const baseline = await Promise.all([0, 1, 2].map(connectedClients));
    const redlock = new Redlock([
      servers[0].url,
      { host: '127.0.0.1', port: servers[1].port },
      mine,
    ]);
    const lock = await redlock.acquire('own:1', 5_000);
    await eventually(async () =>
      expect(await probe.values('own:1')).toEqual(Array(3).fill(lock.value)),
    );
    expect(await Promise.all([0, 1, 2].map(connectedClients))).toEqual([
      baseline[0] + 1,
      baseline[1] + 1,
      baseline[2],
    ]);

    await redlock.quit();
    // quit() released the lock it still held, and closed the two connections it opened.
    expect(await probe.values('own:1')).toEqual([null, null, null]);
    await eventually(async () =>
      expect(await Promise.all([0, 1, 2].map(connectedClients))).toEqual(baseline),
    );
    expect(mine.status).toBe('ready');
    await expect(mine.ping()).resolves.toBe('PONG');
    mine.disconnect();
  });

  it('reads the password and database from a URL', async () => {
    const url = `redis://:${encodeURIComponent('s3cr:et')}@127.0.0.1:${secured.port}/3`;
    const redlock = new Redlock([url]);
    const lock = await redlock.acquire('db:1', 5_000);
    const check = new Redis({ port: secured.port, password: 's3cr:et', db: 3 });
    expect(await check.get('db:1')).toBe(lock.value);
    await check.select(0);
    expect(await check.get('db:1')).toBeNull();
    check.disconnect();
    await redlock.quit();
  });

  it('reports a wrong password as an unavailable quorum, without showing the password', async () => {
    const redlock = new Redlock([`redis://:wrong-pass@127.0.0.1:${secured.port}`], {
      retryCount: 0,
    });
    const error = await redlock.acquire('db:2', 1_000).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    expect(String((error as Error).message)).not.toMatch(/wrong-pass/);
    await redlock.quit();
  });

  it('acquires right after construction, waiting for the first connection', async () => {
    const redlock = new Redlock(servers.map((server) => server.url));
    const lock = await redlock.acquire('early:1', 5_000);
    expect(lock.validityMs).toBeGreaterThan(4_000);
    await redlock.quit();
  });

  it("writes a tick's first command at once, even to a busy node, and corks the tick's next ones", async () => {
    // Instances of the test's own, so that their sockets can be looked at.
    const clients = servers.map(
      (server) =>
        new Redis(server.url, { autoResendUnfulfilledCommands: false, enableOfflineQueue: false }),
    );
    const redlock = new Redlock(clients, { retryCount: 0, nodeTimeoutMs: 2_000 });
    const corked = () => clients.map((client) => client.stream.writableCorked);
    try {
      // Every connection up (a quorum alone would grant the warm-up), scripts loaded.
      await Promise.all(
        clients.map((client) =>
          client.status === 'ready'
            ? undefined
            : new Promise((ready) => client.once('ready', ready)),
        ),
      );
      await redlock.release(await redlock.acquire('writes:warm', 1_000));
      // Node 0 runs a script for 150 ms: the SET of 'writes:a' waits behind it, unanswered,
      // while nodes 1 and 2 decide that acquisition.
      const busy = clients[0].eval(
        `local s = redis.call('time')
         while true do
           local t = redis.call('time')
           if (t[1] - s[1]) * 1000000 + (t[2] - s[2]) > 150000 then return 1 end
         end`,
        0,
      );
      const first = await redlock.acquire('writes:a', 5_000);
      // A later tick: its first command leaves at once, on node 0's busy connection too.
      const second = redlock.acquire('writes:b', 5_000);
      expect(corked()).toEqual([0, 0, 0]);
      // The tick's next command waits, corked, for the end of the tick.
      const third = redlock.acquire('writes:c', 5_000);
      expect(corked()).toEqual([1, 1, 1]);
      await new Promise((resolve) => process.nextTick(resolve));
      expect(corked()).toEqual([0, 0, 0]);
      await busy;
      for (const lock of [first, await second, await third])
        expect(await lock.release()).toBe(true);
    } finally {
      await redlock.quit();
      await Promise.all(clients.map((client) => client.quit()));
    }
  });

  it('leaves no timer or socket behind after quit(), even with a node down', async () => {
    const count = (kind: string) =>
      process.getActiveResourcesInfo().filter((k) => k === kind).length;
    const sockets = count('TCPSocketWrap');
    const timers = watchTimers();
    const down = `redis://127.0.0.1:${await freePort()}`;
    const redlock = new Redlock([...servers.map((server) => server.url), down]);
    await redlock.using('clean:1', 1_000, async () => undefined);
    await redlock.acquire('clean:2', 60_000);
    expect(timers.pending().length).toBeGreaterThan(0); // reconnecting to the node that is down
    await redlock.quit();
    expect(await timers.settled()).toEqual([]);
    timers.stop();
    expect(count('TCPSocketWrap')).toBeLessThanOrEqual(sockets);
  });
});
