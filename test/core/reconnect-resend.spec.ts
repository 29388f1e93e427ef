import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { QuorumUnavailableError, Redlock, type RedlockWarning } from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { useRedisNodes } from '../support/test-bed.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A lock command cut off by a dropped connection must not land after its operation was
 * decided. The node sits behind a proxy: a blackhole swallows an acquire, the connection drops
 * and cannot come back in time, the acquire fails and its clean-up release cannot be sent
 * (the node is down); then the connection comes back. ioredis's default would re-send the
 * acquire then, leaving a key that nobody holds for the whole ttl.
 */
describe('commands cut off by a dropped connection', () => {
  const bed = useRedisNodes(1);
  let proxy: TcpProxy;

  beforeEach(async () => {
    proxy = await TcpProxy.start(bed.cluster.servers[0].port);
  });
  afterEach(async () => {
    await proxy.close();
  });

  async function cutOffAnAcquire(redlock: Redlock): Promise<void> {
    await (await redlock.acquire('warm-up', 1_000)).release();
    proxy.set({ kind: 'blackhole' });
    const attempt = redlock.acquire('job:resent', 10_000);
    await sleep(50);
    proxy.reset(); // dropped; the reconnection's ready check is swallowed too
    await expect(attempt).rejects.toBeInstanceOf(QuorumUnavailableError);
    proxy.set({ kind: 'pass' }); // resets again; the client reconnects for real
  }

  it('are not re-sent on the connections the engine owns', async () => {
    const redlock = new Redlock([proxy.url], { retryCount: 0, nodeTimeoutMs: 200 });
    try {
      await cutOffAnAcquire(redlock);
      // Once reconnected, the node takes locks again: nothing counts the lost command.
      const lock = await eventually(() => redlock.acquire('job:after', 1_000), 5_000);
      await lock.release();
      await sleep(200);
      expect(await bed.probe.values('job:resent')).toEqual([null]);
    } finally {
      await redlock.quit();
    }
  });

  it('are re-sent by a caller’s client left at the ioredis default, which gets a warning', async () => {
    const client = new Redis(proxy.port, '127.0.0.1', { enableOfflineQueue: false });
    const redlock = new Redlock([client], { retryCount: 0, nodeTimeoutMs: 200 });
    const warnings: RedlockWarning[] = [];
    redlock.on('warning', (warning) => warnings.push(warning));
    try {
      await eventually(() =>
        expect(warnings.map((warning) => warning.code)).toEqual(['CLIENT_RESENDS_COMMANDS']),
      );
      expect(warnings[0].message).toMatch(/autoResendUnfulfilledCommands: false/);
      await cutOffAnAcquire(redlock);
      // What the warning is about: the acquire lands after it failed.
      await eventually(
        async () => expect((await bed.probe.values('job:resent'))[0]).not.toBeNull(),
        5_000,
      );
    } finally {
      await redlock.quit();
      client.disconnect();
    }
  });

  it('gives no warning for a caller’s client that does not re-send', async () => {
    const client = new Redis(proxy.port, '127.0.0.1', {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
    });
    const redlock = new Redlock([client]);
    const warnings: RedlockWarning[] = [];
    redlock.on('warning', (warning) => warnings.push(warning));
    await (await redlock.acquire('job:quiet', 1_000)).release();
    expect(warnings).toEqual([]);
    await redlock.quit();
    client.disconnect();
  });
});
