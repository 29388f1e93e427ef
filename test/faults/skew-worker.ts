/*
 * One client of the client-clock-skew scenario, as a child process (its `Date.now()` may be
 * shifted by ./shifted-date.ts): acquires one contended lock, holds it 1 ms, releases, and
 * at the end reports how long each acquire waited and how many attempts it took. Started by
 * ./client-clock-skew.ts.
 */
import { Redlock } from '../../lib/core/index.js';

/** What the parent tells a skew worker (JSON in argv[2]). */
export interface SkewWorkerConfig {
  readonly nodes: readonly string[];
  readonly resource: string;
  readonly holdMs: number;
}

/** Messages from a skew worker to the parent. */
export type SkewWorkerMessage =
  { type: 'ready' } | { type: 'done'; waitsMs: number[]; attempts: number };

const config = JSON.parse(process.argv[2]) as SkewWorkerConfig;
const send = (message: SkewWorkerMessage) => process.send!(message);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stopping = false;
let start!: () => void;
const started = new Promise<void>((resolve) => (start = resolve));
process.on('message', (message: { type: string }) => {
  if (message.type === 'start') start();
  if (message.type === 'stop') stopping = true;
});

async function main(): Promise<void> {
  const redlock = new Redlock(config.nodes as string[], { retryCount: -1, waitMs: 60_000 });
  while ((await redlock.health()).up < config.nodes.length) await sleep(20);
  send({ type: 'ready' });
  await started;
  const waitsMs: number[] = [];
  let attempts = 0;
  while (!stopping) {
    const startedAt = performance.now();
    const lock = await redlock.acquire(config.resource, 5_000);
    waitsMs.push(performance.now() - startedAt);
    attempts += lock.attempts;
    await sleep(config.holdMs);
    await lock.release();
  }
  await redlock.quit();
  send({ type: 'done', waitsMs, attempts });
  process.disconnect();
}

main().catch((error: unknown) => {
  console.error('skew worker failed:', error);
  process.exit(1);
});
