/*
 * The semaphore scenario: `workers` clients (each with its own connections) take permits of
 * one semaphore of `SEMAPHORE_LIMIT` and hold each for 1 ms. Reports the wait for a permit,
 * grants per second, attempts per grant where the library says, and the moments more than the
 * limit held a permit at once in this process (`lostUpdates`: must be 0), and what a grant
 * costs the nodes and this process in CPU time.
 */
import { SEMAPHORE_LIMIT, type Contender, type RetrySettings } from './contenders.js';
import { timedLoops, warmUp, type Measurement } from './scenarios.js';
import { measureNodeCost } from './node-cost.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long the workers contend, untimed, before the measured run. */
const WARM_UP_MS = 300;

/** One library's measurement of `workers` clients contending for the semaphore's permits. */
export async function semaphoreContention(
  contender: Contender,
  urls: string[],
  scenario: string,
  workers: number,
  durationMs: number,
): Promise<Measurement> {
  // The mutex contention scenarios' retry settings: a fallback behind any notices.
  const retry: RetrySettings = { retryCount: 100_000, retryDelayMs: 10, retryJitterMs: 10 };
  const clients = Array.from({ length: workers }, () => contender.create(urls, retry));
  try {
    await Promise.all(clients.map((client) => warmUp(client)));
    let holding = 0;
    let overLimit = 0;
    let attempts = 0;
    const contend = async (worker: number) => {
      const client = clients[worker];
      const waitStartedAt = performance.now();
      const permit = await client.acquire('permits', 1_000);
      const waitMs = performance.now() - waitStartedAt;
      attempts += client.attempts?.(permit) ?? NaN;
      if (++holding > SEMAPHORE_LIMIT) overLimit++;
      await sleep(1);
      holding--;
      await client.release(permit);
      return waitMs;
    };
    await timedLoops(scenario, contender.name, workers, WARM_UP_MS, contend);
    overLimit = 0;
    attempts = 0;
    // What a grant costs the nodes and this process (every client is in it), for the
    // comparison of work per grant.
    const cost = await measureNodeCost(urls);
    const cpuAtStart = process.cpuUsage();
    const measurement = await timedLoops(scenario, contender.name, workers, durationMs, contend);
    const { user, system } = process.cpuUsage(cpuAtStart);
    const attemptsPerGrant = attempts / measurement.ops;
    return {
      ...measurement,
      nodeCost: await cost.done(measurement.ops),
      clientCpuUsecPerOp: (user + system) / Math.max(measurement.ops, 1),
      lostUpdates: overLimit,
      attemptsPerGrant: Number.isNaN(attemptsPerGrant) ? undefined : attemptsPerGrant,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}
