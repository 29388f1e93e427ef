/*
 * The client-clock-skew scenario of the fault suite: 8 worker processes contend for one lock
 * on 3 nodes (1 ms hold), and one of them runs with `Date.now()` 10 s ahead, then, in a second
 * run, 10 s behind. The wait queues must not care: that worker's p99 wait stays within 2× of
 * the others' (pooled), and its share of the grants within 0.5× to 2× of theirs. Before the
 * queues were ordered on the nodes' clocks, a worker 10 s ahead got 1 grant in 8 s and one
 * 10 s behind 6× its share. Run by ./run.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { RedisCluster } from '../support/redis-nodes.js';
import type { SkewWorkerConfig, SkewWorkerMessage } from './skew-worker.js';

/** What one run with a skewed worker found. */
export interface SkewOutcome {
  readonly shiftMs: number;
  readonly durationMs: number;
  readonly skewed: { grants: number; p99Ms: number };
  /** The 7 other workers: grants per worker on average, and the p99 of their waits pooled. */
  readonly others: { grantsPerWorker: number; p99Ms: number };
  readonly attemptsPerGrant: number;
}

const WORKERS = 8;
const HOLD_MS = 1;

/** The value at quantile `q` of `values` (nearest rank). */
function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Runs 8 contending workers for `durationMs`, worker 0 with `Date.now()` shifted by `shiftMs`. */
export async function runSkewScenario(shiftMs: number, durationMs: number): Promise<SkewOutcome> {
  const cluster = await RedisCluster.start(3);
  const workers: ChildProcess[] = [];
  try {
    const config: SkewWorkerConfig = {
      nodes: cluster.urls,
      resource: 'skew:lock',
      holdMs: HOLD_MS,
    };
    let ready = 0;
    let allReady!: () => void;
    const everyoneReady = new Promise<void>((resolve) => (allReady = resolve));
    const results = Array.from({ length: WORKERS }, (_, id) => {
      const child = fork(new URL('./skew-worker.js', import.meta.url), [JSON.stringify(config)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: id === 0 ? ['--import', new URL('./shifted-date.js', import.meta.url).href] : [],
        env: { ...process.env, DATE_SHIFT_MS: String(id === 0 ? shiftMs : 0) },
      });
      workers.push(child);
      return new Promise<{ waitsMs: number[]; attempts: number }>((resolve, reject) => {
        child.on('message', (message: SkewWorkerMessage) => {
          if (message.type === 'ready' && ++ready === WORKERS) allReady();
          else if (message.type === 'done') resolve(message);
        });
        child.on('exit', (code) => {
          if (code !== 0) reject(new Error(`skew worker ${id} exited with ${code}`));
        });
      });
    });
    await everyoneReady;
    for (const worker of workers) worker.send({ type: 'start' });
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    for (const worker of workers) worker.send({ type: 'stop' });
    const [skewed, ...others] = await Promise.all(results);
    const otherWaits = others.flatMap((result) => result.waitsMs);
    const grants = skewed.waitsMs.length + otherWaits.length;
    const attempts = [skewed, ...others].reduce((sum, result) => sum + result.attempts, 0);
    return {
      shiftMs,
      durationMs,
      skewed: { grants: skewed.waitsMs.length, p99Ms: quantile(skewed.waitsMs, 0.99) },
      others: {
        grantsPerWorker: otherWaits.length / others.length,
        p99Ms: quantile(otherWaits, 0.99),
      },
      attemptsPerGrant: attempts / grants,
    };
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await cluster.stop();
  }
}

/** Prints a skew run's outcome; answers whether the skewed worker was served fairly. */
export function summarizeSkew(outcome: SkewOutcome): boolean {
  const { skewed, others } = outcome;
  const share = skewed.grants / others.grantsPerWorker;
  const passed = skewed.p99Ms <= 2 * others.p99Ms && share >= 0.5 && share <= 2;
  const direction = outcome.shiftMs > 0 ? 'ahead' : 'behind';
  console.log(
    `\n${passed ? 'PASS' : 'FAIL'}  a client whose clock runs ${Math.abs(outcome.shiftMs) / 1000} s ${direction}, ` +
      `among ${WORKERS} contending (${outcome.durationMs / 1000} s, 3 nodes, ${HOLD_MS} ms hold)`,
  );
  console.log(
    `  skewed worker: ${skewed.grants} grants (${share.toFixed(2)}× an average other's ${others.grantsPerWorker.toFixed(0)}), ` +
      `p99 wait ${skewed.p99Ms.toFixed(1)} ms against the others' ${others.p99Ms.toFixed(1)} ms (limit 2×); ` +
      `attempts per grant ${outcome.attemptsPerGrant.toFixed(2)}`,
  );
  return passed;
}
