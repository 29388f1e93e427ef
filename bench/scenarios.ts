import type { Contender, LockClient, RetrySettings } from './contenders.js';
import { summarise, type Summary } from './stats.js';
import { measureNodeCost, type NodeCost } from './node-cost.js';

/** One measured run of one library in one scenario. */
export interface Measurement {
  scenario: string;
  library: string;
  ops: number;
  opsPerSec: number;
  /** acquire+release latency, or the wait for the lock under contention. */
  latencyMs: Summary;
  errors: number;
  /** Contention only: increments lost by the protected read-sleep-write counter. */
  lostUpdates?: number;
  /** Set when an operation took longer than the scenario's cap, and the run was cut. */
  stalledAfterMs?: number;
  /** The first error's message, when there were errors. */
  firstError?: string;
  /** Contention only: acquire attempts per grant, where the library reports its attempts. */
  attemptsPerGrant?: number;
  /** Loops only: what the nodes spent per acquire+release. */
  nodeCost?: NodeCost;
  /** The client processes' CPU (user + system) per operation, in µs, where measured. */
  clientCpuUsecPerOp?: number;
}

const NO_RETRY: RetrySettings = { retryCount: 0, retryDelayMs: 0, retryJitterMs: 0 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TTL_MS = 10_000;

/** A measurement from latency samples taken over `elapsedMs`. */
export function measurementOf(
  scenario: string,
  library: string,
  samples: number[],
  elapsedMs: number,
  errors: number,
): Measurement {
  return {
    scenario,
    library,
    ops: samples.length,
    opsPerSec: (samples.length / elapsedMs) * 1000,
    latencyMs: summarise(samples),
    errors,
  };
}

/**
 * A first few rounds, so that connections are up and scripts are loaded before timing; with
 * `cpuMs`, rounds until this process has spent that much CPU time on them, so that a fresh
 * process runs its code compiled, as a service that has been up a while does. (CPU time, not
 * wall time: a process that shares the cores with others gets a fraction of a wall-clock
 * warm-up, and code that is larger takes longer to be optimized.)
 */
export async function warmUp(client: LockClient, cpuMs = 0): Promise<void> {
  const prefix = `warm:${Math.random().toString(36).slice(2)}`;
  const cpuAtStart = process.cpuUsage();
  const spentMs = () => {
    const { user, system } = process.cpuUsage(cpuAtStart);
    return (user + system) / 1000;
  };
  for (let i = 0; i < 50 || i % 64 !== 0 || spentMs() < cpuMs; i++) {
    await client.release(await client.acquire(`${prefix}:${i % 64}`, TTL_MS));
  }
}

/**
 * Runs `count` loops of `iteration` for `durationMs`; each iteration answers its latency
 * sample, or throws (counted as an error). Answers the samples as a measurement.
 */
export async function timedLoops(
  scenario: string,
  library: string,
  count: number,
  durationMs: number,
  iteration: (loop: number) => Promise<number>,
): Promise<Measurement> {
  const samples: number[] = [];
  let errors = 0;
  const startedAt = performance.now();
  const end = startedAt + durationMs;
  await Promise.all(
    Array.from({ length: count }, async (_, loop) => {
      while (performance.now() < end) {
        try {
          samples.push(await iteration(loop));
        } catch {
          errors++;
        }
      }
    }),
  );
  return measurementOf(scenario, library, samples, performance.now() - startedAt, errors);
}

/**
 * One loop acquiring and releasing `<prefix>:<n>` keys in turn for `durationMs`: its latency
 * samples, errors and elapsed time (for the multi-process scenario's children).
 */
export async function sequentialLoop(
  client: LockClient,
  prefix: string,
  durationMs: number,
): Promise<{ samples: number[]; errors: number; elapsedMs: number }> {
  const samples: number[] = [];
  let errors = 0;
  const startedAt = performance.now();
  const end = startedAt + durationMs;
  for (let n = 0; performance.now() < end; n++) {
    const opStartedAt = performance.now();
    try {
      await client.release(await client.acquire(`${prefix}:${n % 64}`, TTL_MS));
      samples.push(performance.now() - opStartedAt);
    } catch {
      errors++;
    }
  }
  return { samples, errors, elapsedMs: performance.now() - startedAt };
}

/**
 * `concurrency` loops, each acquiring and releasing its own key as fast as it can for
 * `durationMs`: with 1 loop, the sequential latency; with 64, throughput under load.
 */
export async function loops(
  contender: Contender,
  urls: string[],
  scenario: string,
  concurrency: number,
  durationMs: number,
): Promise<Measurement> {
  const client = contender.create(urls, NO_RETRY);
  try {
    await warmUp(client);
    const cost = await measureNodeCost(urls);
    const measurement = await timedLoops(
      scenario,
      contender.name,
      concurrency,
      durationMs,
      async (loop) => {
        const startedAt = performance.now();
        await client.release(await client.acquire(`loop:${loop}`, TTL_MS));
        return performance.now() - startedAt;
      },
    );
    return { ...measurement, nodeCost: await cost.done(measurement.ops) };
  } finally {
    await client.close();
  }
}

/** How long each library contends, untimed, before a contention scenario is measured. */
const CONTENTION_WARM_UP_MS = 300;

/**
 * `workers` clients (each with its own connections) contend for one key; each holds it for a
 * read-sleep(1 ms)-write of a shared counter, for `CONTENTION_WARM_UP_MS` untimed and then for
 * `durationMs`. Reports the wait for the lock, hand-offs per second, and lost counter updates
 * (must be 0).
 */
export async function contention(
  contender: Contender,
  urls: string[],
  scenario: string,
  workers: number,
  durationMs: number,
): Promise<Measurement> {
  const retry: RetrySettings = { retryCount: 100_000, retryDelayMs: 10, retryJitterMs: 10 };
  const clients = Array.from({ length: workers }, () => contender.create(urls, retry));
  try {
    await Promise.all(clients.map(warmUp));
    const counter = { value: 0 };
    let attempts = 0;
    const contend = async (worker: number) => {
      const client = clients[worker];
      const waitStartedAt = performance.now();
      const lock = await client.acquire('hot', 1_000);
      const waitMs = performance.now() - waitStartedAt;
      attempts += client.attempts?.(lock) ?? NaN;
      const seen = counter.value;
      await sleep(1);
      counter.value = seen + 1;
      await client.release(lock);
      return waitMs;
    };
    // The same contention, untimed, first: every library reaches its steady state (JIT,
    // connections, subscriptions) before the clock starts.
    await timedLoops(scenario, contender.name, workers, CONTENTION_WARM_UP_MS, contend);
    const countedFrom = counter.value;
    attempts = 0;
    const measurement = await timedLoops(scenario, contender.name, workers, durationMs, contend);
    const attemptsPerGrant = attempts / measurement.ops;
    return {
      ...measurement,
      lostUpdates: measurement.ops - (counter.value - countedFrom),
      attemptsPerGrant: Number.isNaN(attemptsPerGrant) ? undefined : attemptsPerGrant,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/**
 * Sequential acquire+release with one node down, the first operation after the kill included:
 * `when: 'running'` kills it under a warmed-up client; `when: 'start'` kills it before the
 * client is made (a service starting while a node is down). An operation slower than `capMs`
 * ends the run (reported as stalled).
 */
export async function withNodeDown(
  contender: Contender,
  urls: string[],
  scenario: string,
  kill: () => Promise<void>,
  when: 'running' | 'start',
  durationMs: number,
  capMs: number,
): Promise<Measurement> {
  if (when === 'start') await kill();
  const client = contender.create(urls, NO_RETRY);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let stalledAfterMs: number | undefined;
  try {
    if (when === 'running') {
      await warmUp(client);
      await kill();
      await sleep(200);
    }
    const startedAt = performance.now();
    const end = startedAt + durationMs;
    // Keys of their own: a stalled run of another library may have left its keys held.
    const prefix = `down:${Math.random().toString(36).slice(2)}`;
    let key = 0;
    while (performance.now() < end) {
      const opStartedAt = performance.now();
      const op = client.acquire(`${prefix}:${key++}`, TTL_MS).then((lock) => client.release(lock));
      const outcome = await Promise.race([
        op.then(
          () => 'ok',
          (error: unknown) => {
            firstError ??= error instanceof Error ? error.message : String(error);
            return 'error';
          },
        ),
        sleep(capMs).then(() => 'stalled'),
      ]);
      if (outcome === 'stalled') {
        op.catch(() => undefined);
        stalledAfterMs = performance.now() - startedAt;
        break;
      }
      if (outcome === 'error') errors++;
      else latencies.push(performance.now() - opStartedAt);
    }
    const elapsedMs = performance.now() - startedAt;
    return {
      scenario,
      library: contender.name,
      ops: latencies.length,
      opsPerSec: (latencies.length / elapsedMs) * 1000,
      latencyMs: summarise(latencies),
      errors,
      firstError,
      stalledAfterMs,
    };
  } finally {
    await Promise.race([client.close(), sleep(2_000)]);
  }
}
