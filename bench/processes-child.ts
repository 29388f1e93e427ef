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
const send = (message: ProcessesChildMessage) => process.send!(message);
const client = contenderNamed(library).create(urls.split(','), {
  retryCount: 0,
  retryDelayMs: 0,
  retryJitterMs: 0,
});
// A fresh process: warm, as a service instance that has been running is.
await warmUp(client, 1_000);
const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
send({ type: 'ready' });
await go;
const cpuBefore = process.cpuUsage();
const result = await sequentialLoop(client, `p${process.pid}`, Number(durationMs));
const cpu = process.cpuUsage(cpuBefore);
send({ type: 'done', ...result, cpuUsec: cpu.user + cpu.system });
await client.close();
process.disconnect();
