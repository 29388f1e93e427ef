/*
 * The stalled-node scenario of the fault suite: one of 3 real nodes is SIGSTOPped for 15 s
 * while 32 loops acquire and release locks as fast as they can. A stalled node keeps its
 * socket open, so whatever is sent to it piles up in the client's queue and the socket's
 * buffer; the engine must stop sending it anything (bar one clean-up per acquire it was sent)
 * once it has not answered for `nodeTimeoutMs`. Checked: the heap, after a forced GC, grows by
 * less than 64 MB over the pause; locks keep being granted by the 2 other nodes meanwhile; and
 * after SIGCONT the node counts again (health up, it takes part in new locks). Run by
 * ./run.ts, under `node --expose-gc`.
 */
import { Redlock } from '../../lib/core/index.js';
import { RedisCluster } from '../support/redis-nodes.js';

/** What a run of the stalled-node scenario found. */
export interface StalledNodeOutcome {
  readonly pauseMs: number;
  /** Locks granted while the node was paused. */
  readonly grantedWhilePaused: number;
  /** Heap used after a forced GC, before the pause and at its end, in MB. */
  readonly heapBeforeMb: number;
  readonly heapAtEndMb: number;
  /** Whether the node was up again (health) and held a new lock after SIGCONT. */
  readonly recovered: boolean;
  readonly violations: readonly string[];
}

/** The heap may grow by less than this over the pause. */
export const HEAP_GROWTH_LIMIT_MB = 64;

const LOOPS = 32;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function heapAfterGcMb(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the fault suite with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Runs the scenario: `pauseMs` of SIGSTOP on node 0 under load, then SIGCONT. */
export async function runStalledNodeScenario(pauseMs: number): Promise<StalledNodeOutcome> {
  const cluster = await RedisCluster.start(3);
  const redlock = new Redlock(cluster.urls, { retryCount: 0, restartDelayMs: 0 });
  redlock.on('warning', () => undefined);
  const violations: string[] = [];
  let running = true;
  let granted = 0;
  const loops = Array.from({ length: LOOPS }, async (_, loop) => {
    for (let op = 0; running; op++) {
      try {
        const lock = await redlock.acquire(`stall:${loop}:${op % 64}`, 5_000);
        granted++;
        await redlock.release(lock);
      } catch {
        await sleep(1); // a failed acquire (node timeouts) must not spin
      }
    }
  });
  try {
    await sleep(1_000);
    const heapBeforeMb = heapAfterGcMb();
    const grantedBefore = granted;
    cluster.servers[0].pause();
    await sleep(pauseMs);
    const heapAtEndMb = heapAfterGcMb();
    const grantedWhilePaused = granted - grantedBefore;
    cluster.servers[0].resume();
    if (heapAtEndMb - heapBeforeMb >= HEAP_GROWTH_LIMIT_MB) {
      violations.push(
        `heap grew by ${(heapAtEndMb - heapBeforeMb).toFixed(0)} MB (limit ${HEAP_GROWTH_LIMIT_MB})`,
      );
    }
    if (grantedWhilePaused < 100) {
      violations.push(`only ${grantedWhilePaused} locks granted while one node of 3 was paused`);
    }
    running = false;
    await Promise.all(loops);
    const recovered = await recoveredAfterPause(redlock, cluster);
    if (!recovered) violations.push('the node did not count again within 5 s of SIGCONT');
    return { pauseMs, grantedWhilePaused, heapBeforeMb, heapAtEndMb, recovered, violations };
  } finally {
    running = false;
    await Promise.allSettled(loops);
    await redlock.quit();
    await cluster.stop();
  }
}

/** Whether node 0 is healthy and holds a new lock's key within 5 s of SIGCONT. */
async function recoveredAfterPause(redlock: Redlock, cluster: RedisCluster): Promise<boolean> {
  const deadline = performance.now() + 5_000;
  const { Redis } = await import('ioredis');
  const probe = new Redis(cluster.servers[0].port, '127.0.0.1');
  try {
    while (performance.now() < deadline) {
      const health = await redlock.health();
      if (health.nodes[0].up) {
        const lock = await redlock.acquire('stall:after', 1_000).catch(() => undefined);
        let held = false;
        // The quorum may answer before node 0 does: give its reply a moment.
        for (let look = 0; lock && !held && look < 20; look++) {
          held = (await probe.get('stall:after')) === lock.value;
          if (!held) await sleep(10);
        }
        if (lock) await redlock.release(lock);
        if (held) return true;
      }
      await sleep(100);
    }
    return false;
  } finally {
    probe.disconnect();
  }
}
