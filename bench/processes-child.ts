/*
 * One process of the multi-process scenario (`node processes-child.js <library> <urls> <ms>`):
 * a sequential acquire+release loop on keys of its own, started together with the other
 * processes by the parent (./processes.ts), which measures what the nodes spend meanwhile.
 */
import { contenderNamed } from './contenders.js';
import { sequentialLoop, warmUp } from './scenarios.js';

/** Messages to the parent. */
export type ProcessesChildMessage =
  | { type: 'ready' }
  | { type: 'done'; samples: number[]; errors: number; elapsedMs: number; cpuUsec: number };

const [library, urls, durationMs] = process.argv.slice(2);
/** CPU time each process spends warming up: every library is at its steady speed after it. */
const WARM_UP_CPU_MS = 2_000;
const send = (message: ProcessesChildMessage) => process.send!(message);
const client = contenderNamed(library).create(urls.split(','), {
  retryCount: 0,
  retryDelayMs: 0,
  retryJitterMs: 0,
});
// A fresh process: warm, as a service instance that has been running is. Each library's first
// seconds run partly interpreted; under 4 processes on few cores, one wall-clock second gave
// each process a third of a second of CPU, and larger code was still being optimized when the
// clock started.
await warmUp(client, WARM_UP_CPU_MS);
const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
send({ type: 'ready' });
await go;
const cpuBefore = process.cpuUsage();
const result = await sequentialLoop(client, `p${process.pid}`, Number(durationMs));
const cpu = process.cpuUsage(cpuBefore);
send({ type: 'done', ...result, cpuUsec: cpu.user + cpu.system });
await client.close();
process.disconnect();
