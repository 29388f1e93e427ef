/*
 * A redis-server clock that the fault suite moves: the node runs under libfaketime, which
 * reads the offset from a file on every call (FAKETIME_NO_CACHE), so writing the file moves
 * the node's wall clock at once. Its monotonic clock is left alone. The binary and the library
 * come from scripts/faketime-redis.sh.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What scripts/faketime-redis.sh found or built. */
export interface FaketimeTools {
  /** A redis-server built with `MALLOC=libc`, into which libfaketime loads. */
  readonly redisServer: string;
  readonly libfaketime: string;
}

/**
 * Runs scripts/faketime-redis.sh (it installs and builds what is missing, then caches it):
 * the tools, or why there are none.
 */
export function findFaketimeTools(): FaketimeTools | { missing: string } {
  const script = new URL('../../../scripts/faketime-redis.sh', import.meta.url);
  try {
    const output = execFileSync('bash', [fileURLToPath(script)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const value = (name: string) => new RegExp(`^${name}=(.+)$`, 'm').exec(output)?.[1];
    const redisServer = value('REDIS_SERVER');
    const libfaketime = value('LIBFAKETIME');
    if (!redisServer || !libfaketime) return { missing: `unexpected output: ${output}` };
    return { redisServer, libfaketime };
  } catch (error) {
    return { missing: `scripts/faketime-redis.sh failed (${(error as Error).message})` };
  }
}

/** One node's clock: its offset from the real time, which {@link set} moves. */
export class FakeClock {
  private readonly dir = mkdtempSync(join(tmpdir(), 'redlock-clock-'));
  private readonly file = join(this.dir, 'offset');
  /** The node's clock minus the real time, in ms. */
  offsetMs = 0;

  constructor(private readonly tools: FaketimeTools) {
    this.set(0);
  }

  /** The environment that puts a redis-server on this clock. */
  get env(): Record<string, string> {
    return {
      LD_PRELOAD: this.tools.libfaketime,
      FAKETIME_TIMESTAMP_FILE: this.file,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }

  /** Moves the clock to `offsetMs` from the real time (written atomically: never half read). */
  set(offsetMs: number): void {
    this.offsetMs = offsetMs;
    const seconds = (Math.abs(offsetMs) / 1000).toFixed(3);
    writeFileSync(`${this.file}.tmp`, `${offsetMs < 0 ? '-' : '+'}${seconds}s\n`);
    renameSync(`${this.file}.tmp`, this.file);
  }

  /** Removes the offset file. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
