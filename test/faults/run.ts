/*
 * The fault-injection suite (`npm run test:faults`): real redis-server nodes, worker processes
 * contending for one lock and incrementing a counter under it, real faults (SIGKILL and
 * restart, SIGSTOP of nodes and of lock holders, a TCP proxy adding latency or a partition),
 * and a checker over the recorded history; then HTTP clients hanging up on locked routes
 * (./http-abort.ts). Exits 0 when every scenario meets its expectation,
 * including the calibration run, which must find the violation that fencing prevents.
 */
import {
  HEAP_GROWTH_LIMIT_MB,
  runStalledNodeScenario,
  type StalledNodeOutcome,
} from './stalled-node.js';
import { fork, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { RedisCluster, RedisServer } from '../support/redis-nodes.js';
import { NodeProbe } from '../support/node-probe.js';
import { within } from '../support/within.js';
import { checkHistory, type CheckReport, type ViolationKind } from './checker.js';
import type { HistoryEvent } from './history.js';
import { fencingCounterKey } from '../../lib/core/scripts/keys.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import type { WorkerConfig, WorkerMessage } from './worker.js';
import { runHttpAbortScenario, summarizeHttpAbort, type HttpAbortScenario } from './http-abort.js';
import { runClockScenario, summarizeClockScenario, type ClockScenario } from './clock-jumps.js';
import { findFaketimeTools } from './fake-clock.js';
import { runSkewScenario, summarizeSkew } from './client-clock-skew.js';
import {
  runSemaphoreScenario,
  summarizeSemaphore,
  type SemaphoreScenario,
} from './semaphore-bound.js';

/** The kinds of fault the suite injects. */
type FaultKind =
  | 'node SIGKILL + restart'
  | 'node SIGSTOP'
  | 'proxy latency'
  | 'proxy partition'
  | 'client SIGSTOP past ttl'
  | 'node SIGKILL skipped (a majority of the others lacks the last token)';

interface Scenario {
  readonly name: string;
  readonly fencing: boolean;
  readonly durationMs: number;
  /** Node and network faults, injected at random while the workers run. */
  readonly nodeFaults: boolean;
  /** Pause a lock holder between its read and its write, for longer than its ttl. */
  readonly pauseHoldersEvery: number;
  /** `none`: the checker must find nothing. `violation`: it must find something (calibration). */
  readonly expect: 'none' | 'violation';
  /** Workers taking read locks beside the writers (`unlocked read`: reading with none). */
  readonly readers?: { readonly count: number; readonly mode: 'read' | 'unlocked read' };
}

const NODES = 5;
const WORKERS = 4;
const TTL_MS = 300;
const WORK_MS = 5;
/** The resource the workers lock (`worker.ts`). */
const RESOURCE = 'faults:counter';
const scale = Number(process.env.FAULTS_SCALE ?? 1);

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'every fault, fencing on',
    fencing: true,
    durationMs: 20_000 * scale,
    nodeFaults: true,
    pauseHoldersEvery: 25,
    expect: 'none',
  },
  {
    name: 'paused holders, fencing on',
    fencing: true,
    durationMs: 6_000 * scale,
    nodeFaults: false,
    pauseHoldersEvery: 8,
    expect: 'none',
  },
  {
    name: 'readers and writers, every fault, fencing on',
    fencing: true,
    durationMs: 8_000 * scale,
    nodeFaults: true,
    pauseHoldersEvery: 25,
    expect: 'none',
    readers: { count: 3, mode: 'read' },
  },
  {
    name: 'calibration: readers that take no lock, beside writers',
    fencing: true,
    durationMs: 3_000 * scale,
    nodeFaults: false,
    pauseHoldersEvery: 1_000_000,
    expect: 'violation',
    readers: { count: 2, mode: 'unlocked read' },
  },
  {
    name: 'calibration: paused holders, fencing off',
    fencing: false,
    durationMs: 6_000 * scale,
    nodeFaults: false,
    pauseHoldersEvery: 8,
    expect: 'violation',
  },
];

/** The semaphore's bound; the calibration counts holders per node, as the trap does. */
const SEMAPHORE_SCENARIOS: readonly SemaphoreScenario[] = [
  {
    name: 'semaphore permits, every fault',
    variant: 'redlock',
    workers: 6,
    durationMs: 10_000 * scale,
    expect: 'none',
  },
  {
    name: 'calibration: a semaphore counting holders per node, every fault',
    variant: 'per-node counting',
    workers: 6,
    durationMs: 10_000 * scale,
    expect: 'violation',
  },
];

/** Clients hanging up over HTTP; the last one calibrates the checker with the old release-on-close. */
const HTTP_SCENARIOS: readonly HttpAbortScenario[] = [
  {
    name: 'HTTP hang-ups, lockMiddleware (Express)',
    layer: 'express',
    durationMs: 5_000 * scale,
    expect: 'none',
  },
  {
    name: 'HTTP hang-ups, LockInterceptor (Nest)',
    layer: 'nest',
    durationMs: 5_000 * scale,
    expect: 'none',
  },
  {
    name: 'calibration: HTTP hang-ups, a lock released when the response closes',
    layer: 'calibration: release on close',
    durationMs: 3_000 * scale,
    expect: 'violation',
  },
];

/** Nodes' clocks jumping and drifting (libfaketime); the calibration runs without fencing. */
const CLOCK_SCENARIOS: readonly ClockScenario[] = [
  {
    name: 'node clocks jump and drift, fencing on',
    fencing: true,
    durationMs: 12_000 * scale,
    expect: 'none',
  },
  {
    name: 'calibration: node clocks jump and drift, fencing off',
    fencing: false,
    durationMs: 10_000 * scale,
    expect: 'violation',
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low: number, high: number) => low + Math.floor(Math.random() * (high - low));

interface Outcome {
  readonly scenario: Scenario;
  readonly report: CheckReport;
  readonly faults: Map<FaultKind, number>;
  readonly acquireFailures: number;
}

async function runScenario(scenario: Scenario): Promise<Outcome> {
  const cluster = await RedisCluster.start(NODES);
  const storageServer = await RedisServer.start();
  // Worker 0 reaches the last node through a proxy, for network faults on one link.
  const proxy = await TcpProxy.start(cluster.servers[NODES - 1].port);
  // Reads the nodes' fencing counters before a kill (see `injectNodeFaults`).
  const probe = new NodeProbe(cluster.servers);
  await probe.connect();
  const faults = new Map<FaultKind, number>();
  const count = (kind: FaultKind) => faults.set(kind, (faults.get(kind) ?? 0) + 1);
  const events: HistoryEvent[] = [];
  let acquireFailures = 0;
  const workers: ChildProcess[] = [];
  const paused = new Set<ChildProcess>();
  let reads = 0;
  let ready = 0;
  let allReady!: () => void;
  const everyoneReady = new Promise<void>((resolve) => (allReady = resolve));
  try {
    const workerCount = WORKERS + (scenario.readers?.count ?? 0);
    const done = Array.from({ length: workerCount }, (_, id) => {
      const nodes = cluster.urls.map((url, index) =>
        id === 0 && index === NODES - 1 ? proxy.url : url,
      );
      const config: WorkerConfig = {
        id,
        nodes,
        storage: storageServer.url,
        fencing: scenario.fencing,
        ttlMs: TTL_MS,
        workMs: WORK_MS,
        restartDelayMs: 3 * TTL_MS,
        pausable: true,
        mode: id >= WORKERS ? scenario.readers?.mode : undefined,
      };
      const child = fork(new URL('./worker.js', import.meta.url), [JSON.stringify(config)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.push(child);
      return new Promise<void>((resolve, reject) => {
        child.on('message', (message: WorkerMessage) => {
          if (message.type === 'event') events.push(message.event);
          else if (message.type === 'ready' && ++ready === workerCount) allReady();
          else if (message.type === 'acquire-failed') acquireFailures++;
          else if (message.type === 'read-done') {
            // The holder has read and is about to write: freeze it for longer than its ttl.
            if (++reads % scenario.pauseHoldersEvery === 0 && !paused.has(child)) {
              paused.add(child);
              child.kill('SIGSTOP');
              count('client SIGSTOP past ttl');
              setTimeout(
                () => {
                  child.kill('SIGCONT');
                  paused.delete(child);
                },
                between(2 * TTL_MS, 4 * TTL_MS),
              );
            }
          } else if (message.type === 'done') resolve();
        });
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`worker ${id} exited with ${code}`)),
        );
      });
    });

    await everyoneReady;
    for (const worker of workers) worker.send({ type: 'start' });
    const deadline = performance.now() + scenario.durationMs;
    if (scenario.nodeFaults) {
      await injectNodeFaults(cluster, proxy, deadline, count, () => highestToken(events), probe);
    } else {
      await sleep(scenario.durationMs);
    }
    for (const worker of workers) worker.send({ type: 'stop' });
    await Promise.all(done);

    const storage = new Redis(storageServer.url);
    const finalValue = Number((await storage.get('faults:counter')) ?? 0);
    storage.disconnect();
    return { scenario, report: checkHistory(events, finalValue), faults, acquireFailures };
  } finally {
    for (const worker of workers) {
      worker.kill('SIGCONT');
      worker.kill('SIGKILL');
    }
    await proxy.close();
    await probe.quit();
    await storageServer.stop();
    await cluster.stop();
  }
}

/** The highest fencing token returned so far, if any. */
function highestToken(events: readonly HistoryEvent[]): bigint | undefined {
  let highest: bigint | undefined;
  for (const event of events) {
    if (event.type !== 'grant' || event.token === undefined) continue;
    const token = BigInt(event.token);
    if (highest === undefined || token > highest) highest = token;
  }
  return highest;
}

/**
 * How many of the probe's nodes, `index` left out, hold a fencing counter of at least `token`
 * for the suite's resource, read from the nodes themselves (a node that does not answer within
 * 50 ms, down, paused or busy, counts as not holding it).
 */
async function holdingToken(probe: NodeProbe, index: number, token: bigint): Promise<number> {
  const counters = await Promise.all(
    Array.from({ length: NODES }, (_, other) =>
      other === index ? undefined : within(probe.at(other).get(fencingCounterKey(RESOURCE)), 50),
    ),
  );
  return counters.filter((counter) => counter != null && BigInt(counter) >= token).length;
}

/**
 * Injects node and network faults until `deadline`, never more than a minority of nodes at a
 * time: SIGKILL then restart (the node comes back empty), SIGSTOP then SIGCONT, and on one
 * client's link latency or a partition.
 *
 * A node killed comes back without its fencing counters, and the fencing argument holds only
 * while the nodes holding the last token overlap every majority (`docs/correctness.md`, "What it
 * assumes"): a node is killed only when a majority of the others hold the highest token returned
 * so far (`highest()`), read from them just before. Pauses and partitions lose nothing. (Without
 * the check, one run made tokens go backwards, as they would: a node was killed while others
 * that had missed the last grants were needed for a majority.) A grant returning in the few
 * milliseconds between the read and the kill is not covered.
 */
async function injectNodeFaults(
  cluster: RedisCluster,
  proxy: TcpProxy,
  deadline: number,
  count: (kind: FaultKind) => void,
  highest: () => bigint | undefined,
  probe: NodeProbe,
): Promise<void> {
  const busy = new Set<number>();
  const running: Promise<void>[] = [];
  const kinds: FaultKind[] = [
    'node SIGKILL + restart',
    'node SIGSTOP',
    'proxy latency',
    'proxy partition',
  ];
  let proxyBusy = false;
  while (performance.now() < deadline) {
    await sleep(between(150, 400));
    const kind = kinds[between(0, kinds.length)];
    if (kind === 'proxy latency' || kind === 'proxy partition') {
      if (proxyBusy) continue;
      proxyBusy = true;
      count(kind);
      proxy.set(
        kind === 'proxy latency'
          ? { kind: 'latency', ms: between(20, 150) }
          : { kind: 'blackhole' },
      );
      running.push(
        sleep(between(300, 1_000)).then(() => {
          proxy.set({ kind: 'pass' });
          proxyBusy = false;
        }),
      );
      continue;
    }
    if (busy.size >= Math.floor(NODES / 2)) continue;
    const free = [...Array(NODES).keys()].filter((index) => !busy.has(index));
    const index = free[between(0, free.length)];
    const server = cluster.servers[index];
    busy.add(index);
    const token = kind === 'node SIGKILL + restart' ? highest() : undefined;
    const majority = Math.floor(NODES / 2) + 1;
    if (token !== undefined && (await holdingToken(probe, index, token)) < majority) {
      busy.delete(index);
      count('node SIGKILL skipped (a majority of the others lacks the last token)');
      continue;
    }
    count(kind);
    const fault =
      kind === 'node SIGSTOP'
        ? (async () => {
            server.pause();
            await sleep(between(200, 800));
            server.resume();
          })()
        : (async () => {
            await server.kill();
            await sleep(between(100, 600));
            await server.restart();
          })();
    running.push(fault.finally(() => busy.delete(index)));
  }
  await Promise.all(running);
}

function summarize(outcome: Outcome): boolean {
  const { scenario, report, faults, acquireFailures } = outcome;
  const byKind = new Map<ViolationKind, number>();
  for (const violation of report.violations) {
    byKind.set(violation.kind, (byKind.get(violation.kind) ?? 0) + 1);
  }
  const passed =
    scenario.expect === 'none' ? report.violations.length === 0 : report.violations.length > 0;
  const list = (map: Map<string, number>) =>
    map.size === 0 ? 'none' : [...map].map(([kind, n]) => `${kind} ×${n}`).join(', ');
  console.log(
    `\n${passed ? 'PASS' : 'FAIL'}  ${scenario.name} (fencing ${scenario.fencing ? 'on' : 'off'}, ${scenario.durationMs / 1000} s)`,
  );
  console.log(
    `  grants ${report.grants}, accepted writes ${report.acceptedWrites}, refused stale accesses ${report.refused}, writes after validity ${report.lateWrites}, failed acquisitions ${acquireFailures}`,
  );
  console.log(`  faults: ${list(faults)}`);
  console.log(
    `  violations: ${list(byKind)}${scenario.expect === 'violation' ? ' (expected: this run calibrates the checker)' : ''}`,
  );
  for (const violation of report.violations.slice(0, 3))
    console.log(`    ${violation.kind}: ${violation.detail}`);
  return passed;
}

/**
 * The groups of scenarios; `FAULTS_ONLY=clocks,http` runs some of them (default: all). With
 * `FAULTS_REQUIRE_CLOCKS=1` (CI), clock scenarios that cannot run fail the suite instead of
 * being skipped with a warning.
 */
const GROUPS = ['nodes', 'semaphore', 'skew', 'clocks', 'http', 'stall'] as const;
const only = process.env.FAULTS_ONLY?.split(',');
const runs = (group: (typeof GROUPS)[number]) => !only || only.includes(group);

async function main(): Promise<void> {
  if (only?.some((group) => !(GROUPS as readonly string[]).includes(group))) {
    throw new TypeError(`FAULTS_ONLY takes a list of: ${GROUPS.join(', ')}`);
  }
  console.log(`Fault suite: ${NODES} nodes, ${WORKERS} worker processes, ttl ${TTL_MS} ms`);
  let allPassed = true;
  for (const scenario of runs('nodes') ? SCENARIOS : []) {
    allPassed = summarize(await runScenario(scenario)) && allPassed;
  }
  for (const scenario of runs('semaphore') ? SEMAPHORE_SCENARIOS : []) {
    allPassed = summarizeSemaphore(scenario, await runSemaphoreScenario(scenario)) && allPassed;
  }
  for (const shiftMs of runs('skew') ? [10_000, -10_000] : []) {
    allPassed = summarizeSkew(await runSkewScenario(shiftMs, 5_000 * scale)) && allPassed;
  }
  if (runs('clocks')) allPassed = (await runClockScenarios()) && allPassed;
  for (const scenario of runs('http') ? HTTP_SCENARIOS : []) {
    allPassed = summarizeHttpAbort(scenario, await runHttpAbortScenario(scenario)) && allPassed;
  }
  if (runs('stall')) {
    allPassed = summarizeStalledNode(await runStalledNodeScenario(STALL_MS)) && allPassed;
  }
  console.log(allPassed ? '\nAll scenarios met their expectation.' : '\nSome scenarios failed.');
  process.exitCode = allPassed ? 0 : 1;
}

/** Runs the clock scenarios, or says why they cannot run (a failure when they are required). */
async function runClockScenarios(): Promise<boolean> {
  const tools = findFaketimeTools();
  if ('missing' in tools) {
    const required = process.env.FAULTS_REQUIRE_CLOCKS === '1';
    console.log(
      `\n${required ? 'FAIL' : 'SKIP'}  node clock scenarios: ${tools.missing}. ` +
        'They need Debian or Ubuntu with apt-get (as root or with sudo): scripts/faketime-redis.sh ' +
        'installs faketime and builds redis-server with MALLOC=libc.',
    );
    return !required;
  }
  let passed = true;
  for (const scenario of CLOCK_SCENARIOS) {
    passed = summarizeClockScenario(await runClockScenario(scenario, tools)) && passed;
  }
  return passed;
}

/** How long the stalled-node scenario keeps its node paused. */
const STALL_MS = 15_000;

function summarizeStalledNode(outcome: StalledNodeOutcome): boolean {
  const passed = outcome.violations.length === 0;
  console.log(
    `\n${passed ? 'PASS' : 'FAIL'}  a node of 3 paused under load (${outcome.pauseMs / 1000} s)`,
  );
  console.log(
    `  heap after GC: ${outcome.heapBeforeMb.toFixed(1)} MB before, ` +
      `${outcome.heapAtEndMb.toFixed(1)} MB at the end of the pause ` +
      `(limit: +${HEAP_GROWTH_LIMIT_MB} MB)`,
  );
  console.log(
    `  locks granted while paused: ${outcome.grantedWhilePaused}; ` +
      `recovered after SIGCONT: ${outcome.recovered ? 'yes' : 'no'}`,
  );
  if (!passed) console.log(`  violations: ${outcome.violations.join('; ')}`);
  return passed;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
