/*
 * The multi-process scenario: `count` client processes, each running a sequential
 * acquire+release loop on its own keys against the same nodes, as many service instances
 * share their Redis nodes in production. There the nodes' CPU per operation shows, which one
 * process's round trips hide.
 */
import { fork } from 'node:child_process';
import type { Contender } from './contenders.js';
import { measureNodeCost } from './node-cost.js';
import type { ProcessesChildMessage } from './processes-child.js';
import { measurementOf, type Measurement } from './scenarios.js';

/** Runs `count` processes of `contender` together for `durationMs`; pooled figures. */
export async function processes(
  contender: Contender,
  urls: string[],
  scenario: string,
  count: number,
  durationMs: number,
): Promise<Measurement> {
  const script = new URL('./processes-child.js', import.meta.url);
  const children = Array.from({ length: count }, () =>
    fork(script, [contender.name, urls.join(','), String(durationMs)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    const ready = children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.once('message', () => resolve());
          child.once('exit', (code) =>
            reject(new Error(`a ${contender.name} process exited (${code})`)),
          );
        }),
    );
    await Promise.all(ready);
    const cost = await measureNodeCost(urls);
    const results = children.map(
      (child) =>
        new Promise<Extract<ProcessesChildMessage, { type: 'done' }>>((resolve) =>
          child.on('message', (message: ProcessesChildMessage) => {
            if (message.type === 'done') resolve(message);
          }),
        ),
    );
    for (const child of children) child.send('go');
    const done = await Promise.all(results);
    const samples = done.flatMap((result) => result.samples);
    const elapsedMs = Math.max(...done.map((result) => result.elapsedMs));
    const errors = done.reduce((sum, result) => sum + result.errors, 0);
    const cpuUsec = done.reduce((sum, result) => sum + result.cpuUsec, 0);
    return {
      ...measurementOf(scenario, contender.name, samples, elapsedMs, errors),
      nodeCost: await cost.done(samples.length),
      clientCpuUsecPerOp: cpuUsec / samples.length,
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
}
