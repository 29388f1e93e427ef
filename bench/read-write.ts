/*
 * The read-write scenario: `readers` clients and `writers` clients (each with its own
 * connections) on one resource, readers taking read locks and writers write locks, each
 * holding it for 1 ms. Ours only: no peer has a read-write lock. Reports each side's wait, the
 * writers' worst wait, and the overlaps seen (a writer beside anyone: must be 0).
 */
import { Redlock, type Lock } from '../lib/index.js';
import { measurementOf, type Measurement } from './scenarios.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The retry settings of the contention scenarios: a fallback behind the notices. */
const RETRY = { retryCount: 100_000, retryDelayMs: 10, retryJitterMs: 10 };
/** How long both sides contend, untimed, before the measured run. */
const WARM_UP_MS = 300;

/** Readers' and writers' measurements, in that order; `lostUpdates` counts overlaps. */
export async function readWriteContention(
  urls: string[],
  scenario: string,
  readers: number,
  writers: number,
  durationMs: number,
): Promise<Measurement[]> {
  const clients = Array.from({ length: readers + writers }, () => new Redlock(urls, RETRY));
  const active = { readers: 0, writers: 0 };
  let overlaps = 0;
  const hold = async (lock: Lock, side: 'readers' | 'writers') => {
    if (active.writers > 0 || (side === 'writers' && active.readers > 0)) overlaps++;
    active[side]++;
    await sleep(1);
    active[side]--;
    await lock.release();
  };
  const run = async (until: number, samples: { readers: number[]; writers: number[] }) => {
    await Promise.all(
      clients.map(async (client, index) => {
        const side = index < readers ? 'readers' : 'writers';
        while (performance.now() < until) {
          const waitStartedAt = performance.now();
          const lock =
            side === 'readers'
              ? await client.acquireRead('doc', 1_000)
              : await client.acquireWrite('doc', 1_000);
          samples[side].push(performance.now() - waitStartedAt);
          await hold(lock, side);
        }
      }),
    );
  };
  try {
    await run(performance.now() + WARM_UP_MS, { readers: [], writers: [] });
    overlaps = 0;
    const samples = { readers: [] as number[], writers: [] as number[] };
    const startedAt = performance.now();
    await run(startedAt + durationMs, samples);
    const elapsedMs = performance.now() - startedAt;
    return (['readers', 'writers'] as const).map((side) => ({
      ...measurementOf(scenario, `nestjs-redlock (${side})`, samples[side], elapsedMs, 0),
      lostUpdates: overlaps,
    }));
  } finally {
    await Promise.all(clients.map((client) => client.quit()));
  }
}
