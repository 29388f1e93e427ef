import { describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { FencedRedisStore, Redlock, StaleFencingTokenError, type Lock } from '../../lib/index.js';
import { fencingCounterKey } from '../../lib/core/scripts/keys.js';
import { eventually } from '../support/eventually.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { useRedisNodes } from '../support/test-bed.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fencing tokens (5 nodes)', () => {
  const bed = useRedisNodes(5, { retryCount: 0, fencing: true });

  it('strictly increase per resource across grants from several clients', async () => {
    const clients = [bed.make(), bed.make(), bed.make()];
    const tokens: bigint[] = [];
    for (let round = 0; round < 30; round++) {
      const lock = await clients[round % 3].acquire('order:1', 5_000);
      expect(typeof lock.fencingToken).toBe('bigint');
      tokens.push(lock.fencingToken!);
      await lock.release();
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
  });

  it('raises every reachable node to the token, so each counter equals it', async () => {
    const redlock = bed.make();
    // Leave the counters uneven first: a majority is at 7, so every quorum sees a 7.
    await Promise.all(
      [0, 1, 2].map((index) => bed.probe.at(index).set(fencingCounterKey('order:2'), '7')),
    );
    const lock = await redlock.acquire('order:2', 5_000);
    expect(lock.fencingToken).toBe(8n);
    // Phase 2 decides at a quorum; the last nodes may answer just after.
    await eventually(async () =>
      expect(await bed.probe.values(fencingCounterKey('order:2'))).toEqual(Array(5).fill('8')),
    );
    await lock.release();
    // The counters outlive the lock: no expiry.
    expect(await bed.probe.ttls(fencingCounterKey('order:2'))).toEqual(Array(5).fill(-1));
  });

  it('gives a multi-resource lock a token above the last token of each resource', async () => {
    const redlock = bed.make();
    const a = await redlock.acquire('account:a', 5_000);
    await a.release();
    for (let i = 0; i < 3; i++) await (await redlock.acquire('account:b', 5_000)).release();
    const both = await redlock.acquire(['account:a', 'account:b'], 5_000);
    expect(both.fencingToken).toBe(4n);
    await both.release();
    const onlyA = await redlock.acquire('account:a', 5_000);
    expect(onlyA.fencingToken).toBe(5n);
    await onlyA.release();
  });

  it('is off per call with fencing: false, and on per call with fencing: true', async () => {
    const plain = bed.make({ fencing: false });
    const unfenced = await plain.acquire('order:3', 5_000);
    expect(unfenced.fencingToken).toBeUndefined();
    await unfenced.release();
    const fenced = await plain.acquire('order:3', 5_000, { fencing: true });
    expect(fenced.fencingToken).toBe(1n);
    await fenced.release();
    expect(await bed.make().acquire('order:3', 5_000, { fencing: false })).toHaveProperty(
      'fencingToken',
      undefined,
    );
  });

  it('keeps tokens increasing while nodes lose their counters, one at a time', async () => {
    const redlock = bed.make();
    const tokens: bigint[] = [];
    for (let round = 0; round < 20; round++) {
      // A node that lost its data (as after a restart without persistence): phase 2 wrote the
      // token to every node, so the other nodes of any later quorum still carry it.
      await bed.probe.at(round % 5).flushall();
      const lock = await redlock.acquire('order:4', 5_000);
      tokens.push(lock.fencingToken!);
      await lock.release();
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
  });

  it('takes no token on the nodes that refuse, and cleans up the grants', async () => {
    const redlock = bed.make();
    await Promise.all([0, 1, 2].map((index) => bed.probe.at(index).set('order:5', 'other')));
    await expect(redlock.acquire('order:5', 5_000)).rejects.toMatchObject({
      code: 'RESOURCE_LOCKED',
    });
    expect(await bed.probe.values('order:5')).toEqual(['other', 'other', 'other', null, null]);
    // The refusing nodes count nothing; the two that granted count a token nobody holds (tokens
    // may skip numbers, never repeat).
    const counters = await bed.probe.values(fencingCounterKey('order:5'));
    expect(counters.slice(0, 3)).toEqual([null, null, null]);
  });

  it('refuses a lock whose token is confirmed only after its validity ran out', async () => {
    // Three of the five nodes are 100 ms away each way: phase 1 wins its quorum at about
    // 200 ms, within the 300 ms ttl; phase 2's quorum answers at about 400 ms, past it.
    const proxies = await Promise.all(
      [2, 3, 4].map((index) => TcpProxy.start(bed.cluster.servers[index].port)),
    );
    const urls = [...bed.cluster.urls.slice(0, 2), ...proxies.map((proxy) => proxy.url)];
    const slow = new Redlock(urls, { fencing: true, retryCount: 0, nodeTimeoutMs: 2_000 });
    try {
      await (await slow.acquire('warm-up', 1_000)).release();
      for (const proxy of proxies) proxy.set({ kind: 'latency', ms: 100 });
      const refused = slow.acquire('order:7', 300);
      await expect(refused).rejects.toMatchObject({
        code: 'QUORUM_UNAVAILABLE',
        message: expect.stringMatching(
          /confirmed the fencing token, after \d+ ms of the 300 ms ttl/,
        ),
      });
      // Released everywhere.
      await eventually(async () =>
        expect(await bed.probe.values('order:7')).toEqual(Array(5).fill(null)),
      );
    } finally {
      await slow.quit();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    }
  });

  describe('with FencedRedisStore', () => {
    const withStore = async (work: (store: FencedRedisStore, client: Redis) => Promise<void>) => {
      // The data lives in a database of its own (the locks are in db 0).
      const client = new Redis(`${bed.cluster.urls[0]}/1`);
      try {
        await work(new FencedRedisStore(client), client);
      } finally {
        await client.quit();
      }
    };

    it('turns away a holder that paused past its validity, and loses no update', async () => {
      await withStore(async (store, client) => {
        const first = bed.make();
        const second = bed.make();
        const paused: Lock = await first.acquire('counter', 200);
        const seen = Number((await store.get('counter', paused.fencingToken!)) ?? 0);
        await sleep(300); // the "GC pause": the lock expires meanwhile
        expect(paused.validityMs).toBe(0);

        const next = await second.acquire('counter', 5_000);
        expect(next.fencingToken).toBeGreaterThan(paused.fencingToken!);
        const current = Number((await store.get('counter', next.fencingToken!)) ?? 0);
        // The paused holder wakes up and writes its stale result: refused, even though the new
        // holder has only read so far.
        const stale = store.set('counter', String(seen + 1), paused.fencingToken!);
        await expect(stale).rejects.toBeInstanceOf(StaleFencingTokenError);
        await expect(stale).rejects.toMatchObject({
          code: 'STALE_FENCING_TOKEN',
          token: paused.fencingToken,
          highestSeen: next.fencingToken,
        });
        await store.set('counter', String(current + 1), next.fencingToken!);
        await next.release();
        expect(await store.get('counter', next.fencingToken!)).toBe('1');
        await client.flushdb();
      });
    });

    it('lets the same token read and write again, and a higher one in', async () => {
      await withStore(async (store, client) => {
        await store.set('doc', 'a', 5n);
        await store.set('doc', 'b', 5n);
        await expect(store.get('doc', 5n)).resolves.toBe('b');
        await expect(store.get('missing', 5n)).resolves.toBeNull();
        await store.set('doc', 'c', 9n);
        await expect(store.get('doc', 6n)).rejects.toMatchObject({ highestSeen: 9n });
        expect(await client.get('doc')).toBe('c');
        await client.flushdb();
      });
    });

    it('compares tokens as numbers, past 2^53 and across digit counts', async () => {
      await withStore(async (store, client) => {
        await store.set('big', 'x', 9n);
        await store.set('big', 'y', 10n);
        await expect(store.set('big', 'z', 9n)).rejects.toBeInstanceOf(StaleFencingTokenError);
        const huge = 2n ** 64n + 1n;
        await store.set('big', 'h', huge);
        await expect(store.set('big', 'i', huge - 1n)).rejects.toMatchObject({
          highestSeen: huge,
        });
        await client.flushdb();
      });
    });

    it('rejects a missing token with a hint, before any network call', async () => {
      await withStore(async (store) => {
        const unfenced = await bed.make({ fencing: false }).acquire('order:6', 5_000);
        await expect(store.get('order:6', unfenced.fencingToken as bigint)).rejects.toThrow(
          /fencingToken.*got undefined \(was the lock acquired with `fencing: true`\?\)/,
        );
        await expect(store.set('order:6', 1 as unknown as string, 1n)).rejects.toThrow(TypeError);
        await expect(store.get('', 1n)).rejects.toThrow(/`key` to be a non-empty string/);
        expect(() => new FencedRedisStore({} as Redis)).toThrow(/ioredis/);
      });
    });
  });
});
