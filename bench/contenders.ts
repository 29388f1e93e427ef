import { Redis } from 'ioredis';
import { Redlock as SesameRedlock } from '@sesamecare-oss/redlock';
import NodeRedlock from 'redlock';
import { createRedlock, IoredisAdapter, type LockHandle } from 'redlock-universal';
import { RedlockMutex, RedlockSemaphore } from 'redis-semaphore';
import { Redlock } from '../lib/index.js';

/** What a scenario needs of a lock library: take a lock, give it back, close. */
export interface LockClient {
  acquire(key: string, ttlMs: number): Promise<unknown>;
  release(handle: unknown): Promise<unknown>;
  close(): Promise<void>;
  /** How many attempts an acquisition took, where the library says. */
  attempts?(handle: unknown): number;
}

/** Retry settings a scenario asks for; each library gets the same. */
export interface RetrySettings {
  retryCount: number;
  retryDelayMs: number;
  retryJitterMs: number;
}

/** A library under test, made from the nodes' URLs. */
export interface Contender {
  name: string;
  create(urls: string[], retry: RetrySettings): LockClient;
}

const NO_RETRY: RetrySettings = { retryCount: 0, retryDelayMs: 0, retryJitterMs: 0 };

const quitAll = async (clients: Redis[]) => {
  await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
};

export const ours: Contender = {
  name: 'nestjs-redlock',
  create(urls, retry = NO_RETRY) {
    const redlock = new Redlock(urls, retry);
    return {
      acquire: (key, ttlMs) => redlock.acquire(key, ttlMs),
      release: (lock) => redlock.release(lock as never),
      close: () => redlock.quit(),
      attempts: (lock) => (lock as { attempts: number }).attempts,
    };
  },
};

/** Ours with fencing tokens: two rounds per acquisition instead of one. */
export const oursFenced: Contender = {
  name: 'nestjs-redlock (fencing)',
  create(urls, retry = NO_RETRY) {
    const redlock = new Redlock(urls, { ...retry, fencing: true });
    return {
      acquire: (key, ttlMs) => redlock.acquire(key, ttlMs),
      release: (lock) => redlock.release(lock as never),
      close: () => redlock.quit(),
    };
  },
};

/** Ours with read locks: the uncontended cost of a read, against the mutex's. */
export const oursRead: Contender = {
  name: 'nestjs-redlock (read lock)',
  create(urls, retry = NO_RETRY) {
    const redlock = new Redlock(urls, retry);
    return {
      acquire: (key, ttlMs) => redlock.acquireRead(key, ttlMs),
      release: (lock) => redlock.release(lock as never),
      close: () => redlock.quit(),
    };
  },
};

/** The API that redlock v5 and its fork @sesamecare-oss/redlock share. */
interface RedlockV5Like {
  on(event: 'error', listener: () => void): unknown;
  acquire(resources: string[], duration: number): Promise<{ release(): Promise<unknown> }>;
}

/** A contender for a library with redlock v5's API, on ioredis clients made with defaults. */
function redlockV5Style(
  name: string,
  make: (
    clients: Redis[],
    settings: { retryCount: number; retryDelay: number; retryJitter: number },
  ) => RedlockV5Like,
): Contender {
  return {
    name,
    create(urls, retry = NO_RETRY) {
      const clients = urls.map((url) => new Redis(url));
      clients.forEach((client) => client.on('error', () => undefined));
      const redlock = make(clients, {
        retryCount: retry.retryCount,
        retryDelay: retry.retryDelayMs,
        retryJitter: retry.retryJitterMs,
      });
      redlock.on('error', () => undefined);
      return {
        acquire: (key, ttlMs) => redlock.acquire([key], ttlMs),
        release: (lock) => (lock as { release(): Promise<unknown> }).release(),
        close: () => quitAll(clients),
        attempts: (lock) => (lock as { attempts: unknown[] }).attempts.length,
      };
    },
  };
}

export const nodeRedlock = redlockV5Style(
  'redlock@5.0.0-beta.2',
  (clients, settings) => new NodeRedlock(clients, settings),
);

export const sesame = redlockV5Style(
  '@sesamecare-oss/redlock',
  (clients, settings) => new SesameRedlock(clients, settings) as unknown as RedlockV5Like,
);

/**
 * redlock-universal: one lock object per key (its API), over adapters on ioredis clients made
 * with defaults. It has no retry jitter.
 */
export const universal: Contender = {
  name: 'redlock-universal',
  create(urls, retry = NO_RETRY) {
    const clients = urls.map((url) => new Redis(url));
    clients.forEach((client) => client.on('error', () => undefined));
    const adapters = clients.map((client) => new IoredisAdapter(client));
    type Held = { lock: ReturnType<typeof createRedlock>; handle: LockHandle };
    return {
      async acquire(key, ttlMs): Promise<Held> {
        const lock = createRedlock({
          adapters,
          key,
          ttl: ttlMs,
          retryAttempts: retry.retryCount,
          retryDelay: retry.retryDelayMs,
        });
        return { lock, handle: await lock.acquire() };
      },
      release: (held) => (held as Held).lock.release((held as Held).handle),
      close: () => quitAll(clients),
    };
  },
};

/**
 * redis-semaphore's RedlockMutex: one mutex object per acquisition (its API), on ioredis
 * clients made with defaults, without its background refresh (the other libraries' acquire
 * does not extend either). Its retries have no jitter; `retryCount: -1` waits up to 10 s.
 */
export const semaphoreMutex: Contender = {
  name: 'redis-semaphore RedlockMutex',
  create(urls, retry = NO_RETRY) {
    const clients = urls.map((url) => new Redis(url));
    clients.forEach((client) => client.on('error', () => undefined));
    return {
      async acquire(key, ttlMs) {
        const mutex = new RedlockMutex(clients, key, {
          lockTimeout: ttlMs,
          refreshInterval: 0,
          acquireAttemptsLimit:
            retry.retryCount === -1 ? Number.POSITIVE_INFINITY : retry.retryCount + 1,
          acquireTimeout: 10_000,
          retryInterval: Math.max(1, retry.retryDelayMs),
        });
        await mutex.acquire();
        return mutex;
      },
      release: (mutex) => (mutex as RedlockMutex).release(),
      close: () => quitAll(clients),
    };
  },
};

/** The semaphores' limit in the bench: 4 permits. */
export const SEMAPHORE_LIMIT = 4;

/** Ours: a permit of a semaphore of {@link SEMAPHORE_LIMIT} on the key. */
export const oursSemaphore: Contender = {
  name: `nestjs-redlock (semaphore of ${SEMAPHORE_LIMIT})`,
  create(urls, retry = NO_RETRY) {
    const redlock = new Redlock(urls, retry);
    return {
      acquire: (key, ttlMs) => redlock.acquireSemaphore(key, SEMAPHORE_LIMIT, ttlMs),
      release: (lock) => redlock.release(lock as never),
      close: () => redlock.quit(),
      attempts: (lock) => (lock as { attempts: number }).attempts,
    };
  },
};

/**
 * redis-semaphore's RedlockSemaphore of {@link SEMAPHORE_LIMIT}, set up as its RedlockMutex is
 * above (one object per acquisition, no background refresh, retries without jitter).
 */
export const semaphorePeer: Contender = {
  name: `redis-semaphore RedlockSemaphore (of ${SEMAPHORE_LIMIT})`,
  create(urls, retry = NO_RETRY) {
    const clients = urls.map((url) => new Redis(url));
    clients.forEach((client) => client.on('error', () => undefined));
    return {
      async acquire(key, ttlMs) {
        const semaphore = new RedlockSemaphore(clients, key, SEMAPHORE_LIMIT, {
          lockTimeout: ttlMs,
          refreshInterval: 0,
          acquireAttemptsLimit:
            retry.retryCount === -1 ? Number.POSITIVE_INFINITY : retry.retryCount + 1,
          acquireTimeout: 10_000,
          retryInterval: Math.max(1, retry.retryDelayMs),
        });
        await semaphore.acquire();
        return semaphore;
      },
      release: (semaphore) => (semaphore as RedlockSemaphore).release(),
      close: () => quitAll(clients),
    };
  },
};

const COMPARE_AND_DELETE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * The floor: plain ioredis, SET NX PX on every node in parallel, then a compare-and-delete
 * script on every node; no retries, no validity check, no events. What any Redlock costs at
 * least when written the obvious way.
 */
export const rawFloor: Contender = {
  name: 'raw ioredis floor',
  create(urls) {
    const clients = urls.map((url) => {
      const client = new Redis(url);
      client.defineCommand('compareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE });
      return client as Redis & { compareAndDelete(key: string, value: string): Promise<number> };
    });
    const quorum = Math.floor(urls.length / 2) + 1;
    let counter = 0;
    return {
      async acquire(key, ttlMs) {
        const value = `v${process.pid}:${++counter}:${Math.random()}`;
        const replies = await Promise.all(
          clients.map((client) => client.set(key, value, 'PX', ttlMs, 'NX')),
        );
        if (replies.filter((reply) => reply === 'OK').length < quorum) {
          await Promise.all(clients.map((client) => client.compareAndDelete(key, value)));
          throw new Error('locked');
        }
        return { key, value };
      },
      async release(handle) {
        const { key, value } = handle as { key: string; value: string };
        await Promise.all(clients.map((client) => client.compareAndDelete(key, value)));
      },
      close: () => quitAll(clients),
    };
  },
};

/** Every contender, by name (the multi-process scenario's children find theirs here). */
export function contenderNamed(name: string): Contender {
  const found = [
    ours,
    oursFenced,
    oursRead,
    oursSemaphore,
    nodeRedlock,
    sesame,
    universal,
    semaphoreMutex,
    semaphorePeer,
    rawFloor,
  ].find((contender) => contender.name === name);
  if (!found) throw new Error(`no contender named ${name}`);
  return found;
}
