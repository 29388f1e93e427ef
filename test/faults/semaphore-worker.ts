/*
 * One semaphore client of the fault suite, as a child process (so that it can be paused with
 * SIGSTOP): takes a permit, holds it for a few ms, releases, and reports each grant and
 * release to the parent. Two variants: this package's `acquireSemaphore`, and, for the
 * calibration only, a semaphore that counts holders on each node and takes a majority of
 * admissions as a permit, which the checker must catch over its limit. Started by
 * semaphore-bound.ts.
 */
import { Redis } from 'ioredis';
import { Redlock } from '../../lib/index.js';
import { monotonicMs, type HistoryEvent } from './history.js';
import { within } from '../support/within.js';

/** What the parent tells a worker (JSON in argv[2]). */
export interface SemaphoreWorkerConfig {
  readonly id: number;
  /** The nodes, each through this worker's own proxy. */
  readonly nodes: readonly string[];
  readonly limit: number;
  readonly ttlMs: number;
  readonly workMs: number;
  readonly restartDelayMs: number;
  readonly variant: 'redlock' | 'per-node counting';
}

/** Messages from a worker to the parent. */
export type SemaphoreWorkerMessage =
  | { type: 'event'; event: HistoryEvent }
  /** It holds a permit and is about to work: the parent may pause it. */
  | { type: 'holding' }
  | { type: 'acquire-failed'; code: string }
  | { type: 'ready' }
  | { type: 'done' };

const KEY = 'faults:semaphore';
const config = JSON.parse(process.argv[2]) as SemaphoreWorkerConfig;
const send = (message: SemaphoreWorkerMessage) => process.send!(message);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stopping = false;
let start!: () => void;
const started = new Promise<void>((resolve) => (start = resolve));
process.on('message', (message: { type: string }) => {
  if (message.type === 'start') start();
  if (message.type === 'stop') stopping = true;
});

/** A permit as the loop sees it: its value, how long it is valid, how to give it up. */
interface Held {
  readonly value: string;
  readonly validityMs: number;
  release(): Promise<unknown>;
}

/** Takes a permit, or fails (then the loop tries again). */
type Acquire = () => Promise<Held>;

function redlockVariant(): {
  acquire: Acquire;
  ready: () => Promise<boolean>;
  quit(): Promise<void>;
} {
  const redlock = new Redlock(config.nodes as string[], {
    restartDelayMs: config.restartDelayMs,
    nodeTimeoutMs: 100,
    retryCount: -1,
    retryDelayMs: 5,
    retryJitterMs: 10,
    waitMs: 1_000,
  });
  redlock.on('nodeError', () => undefined);
  return {
    acquire: () => redlock.acquireSemaphore(KEY, config.limit, config.ttlMs),
    ready: async () => (await redlock.health()).up === config.nodes.length,
    quit: () => redlock.quit(),
  };
}

/**
 * The trap docs/correctness.md describes, kept only here: each node admits while fewer than
 * `limit` live entries are in its set, and a majority of admissions within the validity is
 * taken as a permit.
 */
function perNodeCountingVariant(): {
  acquire: Acquire;
  ready: () => Promise<boolean>;
  quit(): Promise<void>;
} {
  const clients = config.nodes.map(
    (url) => new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
  );
  for (const client of clients) client.on('error', () => undefined);
  const quorum = Math.floor(clients.length / 2) + 1;
  const admit = `local now = redis.call('time')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', ms)
if redis.call('zcard', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('zadd', KEYS[1], ms + tonumber(ARGV[3]), ARGV[1])
  redis.call('pexpire', KEYS[1], ARGV[3])
  return 1
end
return 0`;
  const releaseAll = (value: string) =>
    Promise.all(clients.map((client) => within(client.zrem(KEY, value), 100)));
  let counter = 0;
  return {
    acquire: async () => {
      const deadline = monotonicMs() + 1_000;
      for (;;) {
        const value = `${config.id}:${counter++}`;
        const startedAt = monotonicMs();
        // Decided as soon as a quorum admitted it (or every node answered, or 100 ms passed),
        // as a Redlock decides.
        const admitted = await new Promise<number>((resolve) => {
          let yes = 0;
          let answered = 0;
          setTimeout(() => resolve(yes), 100);
          for (const client of clients) {
            void within(client.eval(admit, 1, KEY, value, config.limit, config.ttlMs), 100).then(
              (reply) => {
                if (reply === 1) yes++;
                if (yes >= quorum || ++answered === clients.length) resolve(yes);
              },
            );
          }
        });
        const validityMs = config.ttlMs - (monotonicMs() - startedAt) - 2;
        if (admitted >= quorum && validityMs > 0) {
          return { value, validityMs, release: () => releaseAll(value) };
        }
        await releaseAll(value);
        if (monotonicMs() > deadline) throw Object.assign(new Error('busy'), { code: 'BUSY' });
        await sleep(5 + Math.random() * 10);
      }
    },
    ready: async () => {
      const pings = await Promise.all(clients.map((client) => within(client.ping(), 500)));
      return pings.every((reply) => reply === 'PONG');
    },
    quit: async () => {
      for (const client of clients) client.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const variant = config.variant === 'redlock' ? redlockVariant() : perNodeCountingVariant();
  while (!(await variant.ready())) await sleep(20);
  send({ type: 'ready' });
  await started;
  while (!stopping) {
    const startedAt = monotonicMs();
    let held: Held;
    try {
      held = await variant.acquire();
    } catch (error) {
      send({ type: 'acquire-failed', code: (error as { code?: string }).code ?? String(error) });
      continue;
    }
    const at = monotonicMs();
    const grant: HistoryEvent = {
      type: 'grant',
      worker: config.id,
      lock: held.value,
      startedAt,
      at,
      validUntil: at + held.validityMs,
    };
    send({ type: 'event', event: grant });
    send({ type: 'holding' });
    await sleep(config.workMs);
    send({
      type: 'event',
      event: { type: 'release', worker: config.id, lock: held.value, at: monotonicMs() },
    });
    await held.release();
  }
  await variant.quit();
  send({ type: 'done' });
  process.disconnect();
}

main().catch((error: unknown) => {
  console.error(`semaphore worker ${config.id} failed:`, error);
  process.exit(1);
});
