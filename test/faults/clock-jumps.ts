/*
 * The clock scenarios of the fault suite: 3 lock nodes run under libfaketime and their wall
 * clocks move while 4 worker processes take the lock on one counter, read it, work 30 ms and
 * write it plus one. A node expires keys by its wall clock, so a majority whose clock jumps
 * forward drops a lock that its holder still relies on (Kleppmann's scenario): plain Redlock
 * cannot survive that, and the fenced storage must. Moves: forward and backward jumps of 3 to 6
 * ttls, of a majority or of one node, and a majority running 3% fast or slow for a second or
 * two. One worker gives up after 60 ms of waiting, over and over, so the queues see waiters
 * leave while their deadlines (node time + ttl) move.
 *
 * Checked, fencing on: no stale access accepted, no token out of order, no increment lost,
 * and the jumps did break plain mutual exclusion (overlapping grants) at least once, so the
 * run shows what fencing caught. Queue deadlines: no patient worker (waitMs 10 s) ever fails
 * to acquire, and the longest wait stays under {@link LONGEST_WAIT_LIMIT_MS}. The calibration
 * (fencing off) must find the violation. Run by ./run.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { RedisServer } from '../support/redis-nodes.js';
import { checkHistory, type CheckReport } from './checker.js';
import { FakeClock, type FaketimeTools } from './fake-clock.js';
import type { Grant, HistoryEvent } from './history.js';
import type { WorkerConfig, WorkerMessage } from './worker.js';

/** One clock scenario. */
export interface ClockScenario {
  readonly name: string;
  readonly fencing: boolean;
  readonly durationMs: number;
  /** `none`: fencing must catch every jump. `violation`: the checker must find one. */
  readonly expect: 'none' | 'violation';
}

/** The kinds of clock move. */
type ClockMove =
  | 'majority jumps forward'
  | 'majority jumps back'
  | 'one node jumps forward'
  | 'one node jumps back'
  | 'majority drifts 3%';

/** What a clock scenario found. */
export interface ClockOutcome {
  readonly scenario: ClockScenario;
  readonly report: CheckReport;
  readonly moves: Map<ClockMove, number>;
  /** Failed acquisitions of the patient workers (must be 0) and of the impatient one. */
  readonly patientFailures: number;
  readonly impatientFailures: number;
  /** The longest wait for a grant of a patient worker, ms. */
  readonly longestWaitMs: number;
}

const NODES = 3;
const WORKERS = 4;
const TTL_MS = 500;

/**
 * A patient worker's wait for the lock must stay under this, jumps or not: one ttl, which a
 * key handed to a waiter that had left (or an entry that outlived its waiter) would use up.
 */
export const LONGEST_WAIT_LIMIT_MS = TTL_MS;
const WORK_MS = 30;
/** The last worker gives up after this long, every time the lock is not free soon enough. */
const IMPATIENT_WAIT_MS = 60;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low: number, high: number) => low + Math.floor(Math.random() * (high - low));

/** Runs one clock scenario on nodes built by scripts/faketime-redis.sh. */
export async function runClockScenario(
  scenario: ClockScenario,
  tools: FaketimeTools,
): Promise<ClockOutcome> {
  const clocks = Array.from({ length: NODES }, () => new FakeClock(tools));
  const servers: RedisServer[] = [];
  const workers: ChildProcess[] = [];
  const events: HistoryEvent[] = [];
  const moves = new Map<ClockMove, number>();
  let patientFailures = 0;
  let impatientFailures = 0;
  let storageServer: RedisServer | undefined;
  let onRead: (() => void) | undefined;
  const nextRead = () =>
    new Promise<void>((resolve) => {
      onRead = () => {
        onRead = undefined;
        resolve();
      };
    });
  try {
    for (const clock of clocks) {
      servers.push(await RedisServer.start({ command: tools.redisServer, env: clock.env }));
    }
    storageServer = await RedisServer.start();
    let ready = 0;
    let allReady!: () => void;
    const everyoneReady = new Promise<void>((resolve) => (allReady = resolve));
    const done = Array.from({ length: WORKERS }, (_, id) => {
      const impatient = id === WORKERS - 1;
      const config: WorkerConfig = {
        id,
        nodes: servers.map((server) => server.url),
        storage: storageServer!.url,
        fencing: scenario.fencing,
        ttlMs: TTL_MS,
        workMs: WORK_MS,
        restartDelayMs: 0,
        // Says when it has read: a forward jump lands then, while it works on what it read.
        pausable: true,
        waitMs: impatient ? IMPATIENT_WAIT_MS : 10_000,
      };
      const child = fork(new URL('./worker.js', import.meta.url), [JSON.stringify(config)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.push(child);
      return new Promise<void>((resolve, reject) => {
        child.on('message', (message: WorkerMessage) => {
          if (message.type === 'event') events.push(message.event);
          else if (message.type === 'ready' && ++ready === WORKERS) allReady();
          else if (message.type === 'read-done') onRead?.();
          else if (message.type === 'acquire-failed') {
            if (impatient) impatientFailures++;
            else patientFailures++;
          } else if (message.type === 'done') resolve();
        });
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`worker ${id} exited with ${code}`)),
        );
      });
    });
    await everyoneReady;
    for (const worker of workers) worker.send({ type: 'start' });
    await moveClocks(
      clocks,
      performance.now() + scenario.durationMs,
      (move) => moves.set(move, (moves.get(move) ?? 0) + 1),
      nextRead,
    );
    for (const worker of workers) worker.send({ type: 'stop' });
    await Promise.all(done);

    const storage = new Redis(storageServer.url);
    const finalValue = Number((await storage.get('faults:counter')) ?? 0);
    storage.disconnect();
    const patientGrants = events.filter(
      (event): event is Grant => event.type === 'grant' && event.worker !== WORKERS - 1,
    );
    return {
      scenario,
      report: checkHistory(events, finalValue),
      moves,
      patientFailures,
      impatientFailures,
      longestWaitMs: Math.max(0, ...patientGrants.map((grant) => grant.at - grant.startedAt)),
    };
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await storageServer?.stop();
    await Promise.all(servers.map((server) => server.stop()));
    for (const clock of clocks) clock.remove();
  }
}

/**
 * Moves the nodes' clocks until `deadline`, a move every 300 to 700 ms, each kind in turn: a jump of 3 to 6 ttls
 * forward or back, of a majority or of one node, or a majority drifting 3% fast or slow for 1
 * to 2 s (the offset moved every 50 ms).
 */
async function moveClocks(
  clocks: readonly FakeClock[],
  deadline: number,
  count: (move: ClockMove) => void,
  nextRead: () => Promise<void>,
): Promise<void> {
  const moves: ClockMove[] = [
    'majority jumps forward',
    'majority jumps back',
    'one node jumps forward',
    'one node jumps back',
    'majority drifts 3%',
  ];
  const pick = (n: number) =>
    [...clocks].sort(() => Math.random() - 0.5).slice(0, n) as readonly FakeClock[];
  for (let turn = 0; performance.now() < deadline; turn++) {
    await sleep(between(300, 700));
    // In turn, so that every run has each kind of move (the nodes are picked at random).
    const move = moves[turn % moves.length];
    count(move);
    const majority = pick(Math.floor(NODES / 2) + 1);
    if (move === 'majority drifts 3%') {
      const rate = Math.random() < 0.5 ? 0.03 : -0.03;
      const until = performance.now() + between(1_000, 2_000);
      while (performance.now() < until) {
        await sleep(50);
        for (const clock of majority) clock.set(clock.offsetMs + 50 * rate);
      }
      continue;
    }
    const forward = move.endsWith('forward');
    // A majority jumps forward just after a holder has read: it still relies on its lock.
    if (move === 'majority jumps forward') await Promise.race([nextRead(), sleep(1_000)]);
    const jumpMs = between(3, 7) * TTL_MS * (forward ? 1 : -1);
    for (const clock of move.startsWith('majority') ? majority : pick(1)) {
      clock.set(clock.offsetMs + jumpMs);
    }
  }
}

/** Prints a clock scenario's outcome; answers whether it met its expectation. */
export function summarizeClockScenario(outcome: ClockOutcome): boolean {
  const { scenario, report, moves } = outcome;
  const count = (kind: string) => report.violations.filter((v) => v.kind === kind).length;
  const overlaps = count('overlap');
  const harmful = report.violations.length - overlaps;
  const queuesHeld = outcome.patientFailures === 0 && outcome.longestWaitMs < LONGEST_WAIT_LIMIT_MS;
  const passed =
    scenario.expect === 'none'
      ? harmful === 0 && overlaps > 0 && report.refused > 0 && queuesHeld
      : report.violations.length > 0;
  const list = [...moves].map(([move, n]) => `${move} ×${n}`).join(', ');
  console.log(
    `\n${passed ? 'PASS' : 'FAIL'}  ${scenario.name} (fencing ${scenario.fencing ? 'on' : 'off'}, ${scenario.durationMs / 1000} s, ${NODES} nodes under libfaketime)`,
  );
  console.log(`  clock moves: ${list}`);
  console.log(
    `  grants ${report.grants}, accepted writes ${report.acceptedWrites}, refused stale accesses ${report.refused}, ` +
      `writes after validity ${report.lateWrites}`,
  );
  console.log(
    `  overlapping grants (plain Redlock broken by the jumps) ${overlaps}, lost updates ${count('lost-update')}, ` +
      `stale accesses accepted ${count('stale-accepted')}, tokens out of order ${count('token-order')}`,
  );
  console.log(
    `  queues: failed acquisitions ${outcome.patientFailures} patient (waitMs 10 s), ${outcome.impatientFailures} impatient ` +
      `(waitMs ${IMPATIENT_WAIT_MS} ms, expected); longest patient wait ${outcome.longestWaitMs.toFixed(0)} ms ` +
      `(limit ${LONGEST_WAIT_LIMIT_MS} ms)`,
  );
  if (scenario.expect === 'violation') {
    const lost = report.violations.find((violation) => violation.kind === 'lost-update');
    if (lost) console.log(`    lost-update: ${lost.detail}`);
    console.log(
      '  (expected: this run calibrates the checker; without fencing the jumps lose data)',
    );
  } else if (!passed) {
    for (const violation of report.violations.filter((v) => v.kind !== 'overlap').slice(0, 3))
      console.log(`    ${violation.kind}: ${violation.detail}`);
  }
  return passed;
}
