/*
 * The migration guide's example: node-redlock v5 code on this package's engine, type-checked
 * and run by test/examples.spec.ts against real Redis nodes (REDLOCK_NODES). The region is
 * copied into the README and docs/migrating-from-node-redlock.md verbatim; the spec checks it.
 */
// #region compat
// Was: import Redlock, { ExecutionError } from 'redlock';
import Redlock, { ExecutionError } from 'nestjs-redlock/compat';
import { Redis } from 'ioredis';

// One client per independent Redis node, as for node-redlock; the lock's own (see the guide).
const clients = process.env
  .REDLOCK_NODES!.split(',')
  .map((url) => new Redis(url, { autoResendUnfulfilledCommands: false }));
const redlock = new Redlock(clients, { retryCount: 0 });

/** Runs the nightly report on one instance; the others skip it. */
export async function nightlyReport(
  run: (signal: AbortSignal) => Promise<void>,
): Promise<'ran' | 'skipped'> {
  let started = false;
  try {
    await redlock.using(['report:nightly'], 10_000, async (signal) => {
      started = true;
      await run(signal);
      if (signal.aborted) throw signal.error; // the lock was lost while it ran
    });
    return 'ran';
  } catch (error) {
    // Not acquired: another instance holds it (an error after the start is a real failure).
    if (error instanceof ExecutionError && !started) return 'skipped';
    throw error;
  }
}
// #endregion

/** Closes the example's connections (and, as node-redlock's `quit()` does, its clients). */
export const shutdown = () => redlock.quit();
