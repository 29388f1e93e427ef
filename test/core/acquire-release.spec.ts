import { describe, expect, it } from '@jest/globals';
import { Lock, LockError, ResourceLockedError } from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { useRedisNodes } from '../support/test-bed.js';

describe('acquire and release on 5 real nodes', () => {
  const bed = useRedisNodes(5, { retryCount: 0 });
  const make = (options = {}) => bed.make(options);

  it('sets the key with the lock value and ttl on every node, and deletes it on release', async () => {
    const redlock = make();
    const lock = await redlock.acquire('order:1', 10_000);

    expect(lock).toBeInstanceOf(Lock);
    expect(lock.resources).toEqual(['order:1']);
    expect(lock.attempts).toBe(1);
    expect(lock.validityMs).toBeGreaterThan(9_000);
    expect(lock.validityMs).toBeLessThanOrEqual(10_000 - 102);
    // A quorum decided; the other nodes follow moments later.
    await eventually(async () =>
      expect(await bed.probe.values('order:1')).toEqual(Array(5).fill(lock.value)),
    );
    for (const ttl of await bed.probe.ttls('order:1')) {
      expect(ttl).toBeGreaterThan(9_000);
      expect(ttl).toBeLessThanOrEqual(10_000);
    }

    await expect(lock.release()).resolves.toBe(true);
    await eventually(async () =>
      expect(await bed.probe.values('order:1')).toEqual(Array(5).fill(null)),
    );
    expect(lock.validityMs).toBe(0);
  });

  it('takes a free key with one plain SET NX PX per node and runs no script for it', async () => {
    const redlock = make();
    // Connections ready and probed; a quorum decides, so wait for the last node too.
    const warm = await redlock.acquire('order:warm', 10_000);
    await eventually(async () =>
      expect(await bed.probe.values('order:warm')).toEqual(Array(5).fill(warm.value)),
    );
    const [sets, scripts] = [await bed.probe.calls('set'), await bed.probe.calls('evalsha')];
    const lock = await redlock.acquire('order:plain', 10_000);
    await eventually(async () =>
      expect(await bed.probe.values('order:plain')).toEqual(Array(5).fill(lock.value)),
    );
    const setsSince = (await bed.probe.calls('set')).map((count, index) => count - sets[index]);
    const scriptsSince = (await bed.probe.calls('evalsha')).map(
      (count, index) => count - scripts[index],
    );
    expect(setsSince).toEqual(Array(5).fill(1));
    expect(scriptsSince).toEqual(Array(5).fill(0));
    await lock.release();
  });

  it('uses a fresh random value of at least 128 bits for every lock', async () => {
    const redlock = make();
    const values = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const lock = await redlock.acquire('order:2', 1_000);
      values.add(lock.value);
      await lock.release();
    }
    expect(values.size).toBe(20);
    for (const value of values)
      expect(Buffer.from(value, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('refuses a held resource with ResourceLockedError carrying retryAfterMs from PTTL', async () => {
    const holder = await make().acquire('order:3', 5_000);
    await eventually(async () =>
      expect(await bed.probe.values('order:3')).toEqual(Array(5).fill(holder.value)),
    );
    const error = await make()
      .acquire('order:3', 1_000)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ResourceLockedError);
    expect(error).toBeInstanceOf(LockError);
    const locked = error as ResourceLockedError;
    expect(locked.code).toBe('RESOURCE_LOCKED');
    expect(locked.resources).toEqual(['order:3']);
    expect(locked.attempts).toBe(1);
    expect(locked.retryAfterMs).toBeGreaterThan(4_000);
    expect(locked.retryAfterMs).toBeLessThanOrEqual(5_000);
    // The holder's keys are untouched by the refused attempt.
    expect(await bed.probe.values('order:3')).toEqual(Array(5).fill(holder.value));
  });

  it('never releases a lock that another holder has taken since (compare-and-delete)', async () => {
    const first = await make().acquire('order:4', 300);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await make().acquire('order:4', 5_000);

    await eventually(async () =>
      expect(await bed.probe.values('order:4')).toEqual(Array(5).fill(second.value)),
    );
    await expect(first.release()).resolves.toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await bed.probe.values('order:4')).toEqual(Array(5).fill(second.value));
  });

  it('locks several resources all or nothing', async () => {
    const redlock = make();
    const blocker = await redlock.acquire('item:b', 5_000);
    await eventually(async () =>
      expect(await bed.probe.values('item:b')).toEqual(Array(5).fill(blocker.value)),
    );
    await expect(redlock.acquire(['item:a', 'item:b', 'item:c'], 5_000)).rejects.toBeInstanceOf(
      ResourceLockedError,
    );
    expect(await bed.probe.values('item:a')).toEqual(Array(5).fill(null));
    expect(await bed.probe.values('item:c')).toEqual(Array(5).fill(null));

    await blocker.release();
    const lock = await redlock.acquire(['item:a', 'item:b', 'item:c', 'item:a'], 5_000);
    expect(lock.resources).toEqual(['item:a', 'item:b', 'item:c']);
    await eventually(async () => {
      for (const key of lock.resources)
        expect(await bed.probe.values(key)).toEqual(Array(5).fill(lock.value));
    });
    await expect(lock.release()).resolves.toBe(true);
    await eventually(async () => {
      for (const key of lock.resources)
        expect(await bed.probe.values(key)).toEqual(Array(5).fill(null));
    });
  });

  it('releases its partial grants when it loses: nothing is left on the nodes it won', async () => {
    // Another holder has the key on 3 of the 5 nodes: this client wins only 2, short of quorum.
    await Promise.all(
      [0, 1, 2].map((index) => bed.probe.at(index).set('order:5', 'other', 'PX', 5_000)),
    );
    await expect(make().acquire('order:5', 5_000)).rejects.toBeInstanceOf(ResourceLockedError);
    expect(await bed.probe.values('order:5')).toEqual(['other', 'other', 'other', null, null]);
  });

  it('emits acquired and released, and works with no listener at all', async () => {
    const redlock = make();
    const seen: string[] = [];
    redlock.on('acquired', (lock) => seen.push(`acquired ${lock.resources[0]}`));
    redlock.on('released', (lock, held) => seen.push(`released ${lock.resources[0]} ${held}`));
    const lock = await redlock.acquire('order:6', 1_000);
    await lock.release();
    expect(seen).toEqual(['acquired order:6', 'released order:6 true']);
  });

  it('serialises a read-sleep-write counter across 8 clients with no lost update', async () => {
    const clients = Array.from({ length: 8 }, () =>
      make({ retryCount: -1, retryDelayMs: 5, retryJitterMs: 5 }),
    );
    const counter = bed.probe.at(0);
    await counter.set('counter', '0');
    const rounds = 10;
    await Promise.all(
      clients.map(async (redlock) => {
        for (let round = 0; round < rounds; round++) {
          await redlock.using('counter-lock', 2_000, async () => {
            const seen = Number(await counter.get('counter'));
            await new Promise((resolve) => setTimeout(resolve, 2));
            await counter.set('counter', String(seen + 1));
          });
        }
      }),
    );
    expect(Number(await counter.get('counter'))).toBe(clients.length * rounds);
  });

  it('calibration: the same counter without the lock does lose updates', async () => {
    const counter = bed.probe.at(0);
    await counter.set('counter', '0');
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let round = 0; round < 10; round++) {
          const seen = Number(await counter.get('counter'));
          await new Promise((resolve) => setTimeout(resolve, 2));
          await counter.set('counter', String(seen + 1));
        }
      }),
    );
    expect(Number(await counter.get('counter'))).toBeLessThan(80);
  });
});
