import { Redlock } from '../lib/index.js';

/** Heap and RSS at one point of the memory run, after a full GC where available. */
export interface MemorySample {
  cycles: number;
  heapMb: number;
  rssMb: number;
}

/** What the memory run found. */
export interface MemoryReport {
  cycles: number;
  /** Whether `global.gc` was there (`node --expose-gc`), so samples follow a full GC. */
  collected: boolean;
  samples: MemorySample[];
  /** Heap and RSS at the end minus at the start (after the warm-up). */
  heapGrowthMb: number;
  rssGrowthMb: number;
}

const MB = 1024 * 1024;

function sample(cycles: number): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { cycles, heapMb: heapUsed / MB, rssMb: rss / MB };
}

/**
 * `cycles` acquire/release cycles on distinct keys by `concurrency` loops over one `Redlock`,
 * sampling heap and RSS ten times: a leak (locks, timers, listeners, queued commands kept per
 * operation) shows as steady growth.
 */
export async function memoryRun(
  urls: string[],
  cycles: number,
  concurrency = 64,
): Promise<MemoryReport> {
  const redlock = new Redlock(urls, { retryCount: 0 });
  try {
    let done = 0;
    const loop = async (limit: number) => {
      while (done < limit) {
        const key = `mem:${done++}`;
        await (await redlock.acquire(key, 10_000)).release();
      }
    };
    const runTo = (limit: number) =>
      Promise.all(Array.from({ length: concurrency }, () => loop(limit)));
    await runTo(Math.min(20_000, cycles));
    done = 0;
    const samples = [sample(0)];
    const step = Math.max(1, Math.floor(cycles / 10));
    for (let limit = step; limit <= cycles; limit += step) {
      await runTo(limit);
      samples.push(sample(limit));
    }
    const first = samples[0];
    const last = samples[samples.length - 1];
    return {
      cycles,
      collected: typeof (globalThis as { gc?: unknown }).gc === 'function',
      samples,
      heapGrowthMb: last.heapMb - first.heapMb,
      rssGrowthMb: last.rssMb - first.rssMb,
    };
  } finally {
    await redlock.quit();
  }
}

/** Runs {@link memoryRun} in a fresh child process (with `--expose-gc`) and answers its report. */
export async function memoryRunInChild(urls: string[], cycles: number): Promise<MemoryReport> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const child = new URL('./memory-child.js', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', child, urls.join(','), String(cycles)],
    { maxBuffer: 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as MemoryReport;
}
