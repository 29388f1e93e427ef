/*
 * The semaphore's bound under faults: worker processes take permits of one semaphore on 3
 * nodes, each through its own proxy to every node, while links between workers and nodes
 * black out (split views, where each group of workers loses a different node: one slow or
 * unreachable node per client, the pattern that breaks a per-node count; and single links),
 * nodes are killed and restarted or paused, and holders are paused past their ttl. The checker counts the permits valid at each moment. The calibration runs a
 * semaphore that counts holders per node under the same faults, which must be caught over
 * its limit.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { RedisCluster } from '../support/redis-nodes.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import type { Grant, HistoryEvent } from './history.js';
import { checkPermits, type PermitReport } from './permit-checker.js';
import type { SemaphoreWorkerConfig, SemaphoreWorkerMessage } from './semaphore-worker.js';

/** One run: which semaphore, for how long, and what the checker must find. */
export interface SemaphoreScenario {
  readonly name: string;
  readonly variant: SemaphoreWorkerConfig['variant'];
  readonly durationMs: number;
  /** `none`: never over the limit. `violation`: over it at least once (calibration). */
  readonly expect: 'none' | 'violation';
  /** How many worker processes take permits. */
  readonly workers: number;
}

/** What a run did and what the checker found. */
export interface SemaphoreOutcome {
  readonly report: PermitReport;
  readonly faults: ReadonlyMap<string, number>;
  readonly acquireFailures: number;
}

const NODES = 3;
const LIMIT = 2;
const TTL_MS = 300;
const WORK_MS = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low: number, high: number) => low + Math.floor(Math.random() * (high - low));

/** Runs one scenario: starts its nodes, proxies and workers, injects faults, checks. */
export async function runSemaphoreScenario(scenario: SemaphoreScenario): Promise<SemaphoreOutcome> {
  const cluster = await RedisCluster.start(NODES);
  const proxies: TcpProxy[][] = [];
  const workers: ChildProcess[] = [];
  const faults = new Map<string, number>();
  const count = (kind: string) => faults.set(kind, (faults.get(kind) ?? 0) + 1);
  const events: HistoryEvent[] = [];
  let acquireFailures = 0;
  try {
    for (let id = 0; id < scenario.workers; id++) {
      proxies.push(await Promise.all(cluster.servers.map((server) => TcpProxy.start(server.port))));
    }
    let ready = 0;
    let allReady!: () => void;
    const everyoneReady = new Promise<void>((resolve) => (allReady = resolve));
    const paused = new Set<ChildProcess>();
    let holds = 0;
    const done = proxies.map((links, id) => {
      const config: SemaphoreWorkerConfig = {
        id,
        nodes: links.map((proxy) => proxy.url),
        limit: LIMIT,
        ttlMs: TTL_MS,
        workMs: WORK_MS,
        restartDelayMs: 3 * TTL_MS,
        variant: scenario.variant,
      };
      const child = fork(
        new URL('./semaphore-worker.js', import.meta.url),
        [JSON.stringify(config)],
        {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        },
      );
      workers.push(child);
      return new Promise<void>((resolve, reject) => {
        child.on('message', (message: SemaphoreWorkerMessage) => {
          if (message.type === 'event') events.push(message.event);
          else if (message.type === 'ready' && ++ready === scenario.workers) allReady();
          else if (message.type === 'acquire-failed') acquireFailures++;
          else if (message.type === 'holding' && ++holds % 40 === 0 && !paused.has(child)) {
            // A holder frozen for longer than its ttl: its permit lapses under it.
            paused.add(child);
            child.kill('SIGSTOP');
            count('holder SIGSTOP past ttl');
            setTimeout(
              () => {
                child.kill('SIGCONT');
                paused.delete(child);
              },
              between(2 * TTL_MS, 4 * TTL_MS),
            );
          } else if (message.type === 'done') resolve();
        });
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`semaphore worker ${id} exited with ${code}`)),
        );
      });
    });
    await everyoneReady;
    for (const worker of workers) worker.send({ type: 'start' });
    const deadline = performance.now() + scenario.durationMs;
    await Promise.all([
      blackOutLinks(proxies, deadline, count),
      injectNodeFaults(cluster, deadline, count),
    ]);
    for (const worker of workers) worker.send({ type: 'stop' });
    await Promise.all(done);
    const grants = events.filter((event): event is Grant => event.type === 'grant');
    const releases = new Map<string, number>();
    for (const event of events) if (event.type === 'release') releases.set(event.lock, event.at);
    return { report: checkPermits(grants, releases, LIMIT), faults, acquireFailures };
  } finally {
    for (const worker of workers) {
      worker.kill('SIGCONT');
      worker.kill('SIGKILL');
    }
    await Promise.all(proxies.flat().map((proxy) => proxy.close()));
    await cluster.stop();
  }
}

/**
 * Link faults between workers and nodes, in turn: a split view, where worker `i` loses node
 * `i mod 3` (each group of clients cut off from a different node at once, as when each zone
 * of a deployment loses its link to one node: the pattern that lets a per-node count admit a
 * third holder), then a while of single links blacking out at random.
 */
async function blackOutLinks(
  proxies: readonly (readonly TcpProxy[])[],
  deadline: number,
  count: (kind: string) => void,
): Promise<void> {
  while (performance.now() < deadline) {
    await sleep(between(100, 300));
    if (Math.random() < 0.6) {
      count('split view (each worker cut off from one node)');
      const cut = proxies.map((links, id) => links[id % links.length]);
      for (const link of cut) link.set({ kind: 'blackhole' });
      await sleep(between(300, 800));
      for (const link of cut) link.set({ kind: 'pass' });
    } else {
      const links = proxies[between(0, proxies.length)];
      const link = links[between(0, links.length)];
      count('worker-node link blackout');
      link.set({ kind: 'blackhole' });
      await sleep(between(150, 600));
      link.set({ kind: 'pass' });
    }
  }
}

/** Kills and restarts, or pauses, one node at a time (never a majority). */
async function injectNodeFaults(
  cluster: RedisCluster,
  deadline: number,
  count: (kind: string) => void,
): Promise<void> {
  while (performance.now() < deadline) {
    await sleep(between(300, 900));
    const server = cluster.servers[between(0, NODES)];
    if (Math.random() < 0.5) {
      count('node SIGKILL + restart');
      await server.kill();
      await sleep(between(100, 500));
      await server.restart();
    } else {
      count('node SIGSTOP');
      server.pause();
      await sleep(between(150, 600));
      server.resume();
    }
  }
}

/** Prints a run's outcome; answers whether it met its expectation. */
export function summarizeSemaphore(
  scenario: SemaphoreScenario,
  outcome: SemaphoreOutcome,
): boolean {
  const { report, faults, acquireFailures } = outcome;
  const passed =
    scenario.expect === 'none'
      ? report.violations.length === 0 && report.mostAtOnce === LIMIT
      : report.violations.length > 0;
  const list = [...faults].map(([kind, n]) => `${kind} ×${n}`).join(', ');
  console.log(
    `\n${passed ? 'PASS' : 'FAIL'}  ${scenario.name} (${NODES} nodes, ${scenario.workers} workers, limit ${LIMIT}, ${scenario.durationMs / 1000} s)`,
  );
  console.log(
    `  grants ${report.grants}, most permits valid at once ${report.mostAtOnce}, failed acquisitions ${acquireFailures}`,
  );
  console.log(`  faults: ${list || 'none'}`);
  console.log(
    `  over the limit: ${report.violations.length}${scenario.expect === 'violation' ? ' (expected: this run calibrates the checker)' : ''}`,
  );
  for (const violation of report.violations.slice(0, 3)) console.log(`    ${violation}`);
  return passed;
}
