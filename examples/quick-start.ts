/*
 * The README's examples, type-checked and run by test/examples.spec.ts against real Redis
 * nodes (REDLOCK_NODES). The regions are copied into the README verbatim; the spec checks it.
 */
// #region quick-start
import { Redlock, ResourceLockedError } from 'nestjs-redlock/core';

// One instance per process, over independent Redis nodes (not replicas of each other), e.g.
// REDLOCK_NODES=redis://10.0.0.1:6379,redis://10.0.0.2:6379,redis://10.0.0.3:6379
const redlock = new Redlock(process.env.REDLOCK_NODES!.split(','), { retryCount: 0 });

/** Sends an order's invoice once, however many instances of the service try at once. */
export async function sendInvoiceOnce(
  orderId: string,
  send: (signal: AbortSignal) => Promise<void>,
): Promise<'sent' | 'skipped'> {
  try {
    // Locked for 10 s, extended automatically while `send` runs, released when it settles.
    await redlock.using(`invoice:${orderId}`, 10_000, (signal) => send(signal));
    return 'sent';
  } catch (error) {
    if (error instanceof ResourceLockedError) return 'skipped'; // another instance has it
    throw error;
  }
}
// #endregion

// #region acquire-release
/** Moves stock between two warehouses, holding both locks (all or nothing). */
export async function moveStock(from: string, to: string, move: () => Promise<void>) {
  const lock = await redlock.acquire([`stock:${from}`, `stock:${to}`], 5_000, {
    retryCount: -1, // keep trying...
    waitMs: 2_000, // ...for at most 2 s
  });
  try {
    await move();
    if (lock.validityMs < 1_000) await lock.extend(5_000); // more work ahead? extend first
  } finally {
    await lock.release(); // never throws for an expired lock: resolves to false
  }
}
// #endregion

// #region read-write
/** A document editor: many may read a document at once; a save excludes them all. */
export async function loadDocument(id: string, load: (signal: AbortSignal) => Promise<string>) {
  return redlock.usingRead(`doc:${id}`, 5_000, (signal) => load(signal));
}

export async function saveDocument(
  id: string,
  save: (signal: AbortSignal, fencingToken: bigint) => Promise<void>,
) {
  await redlock.usingWrite(`doc:${id}`, 5_000, (signal, lock) => save(signal, lock.fencingToken!), {
    fencing: true,
    retryCount: -1,
    waitMs: 2_000,
  });
}
// #endregion

// #region semaphore
/** At most 3 report exports per tenant at once, across every instance; the 4th waits its turn. */
export async function exportReport(tenant: string, run: (signal: AbortSignal) => Promise<void>) {
  await redlock.usingSemaphore(`exports:${tenant}`, 3, 60_000, (signal) => run(signal), {
    retryCount: -1, // wait in line (woken by releases, in arrival order)...
    waitMs: 30_000, // ...for at most 30 s
  });
}

/** At most 10 calls to a rate-limited partner API at once; when all 10 are out, fail fast. */
export async function callPartner<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return redlock.usingSemaphore('partner-api', 10, 5_000, (signal) => call(signal));
}
// #endregion

// #region votes
/** Which nodes refused a lock, and why: each node's answer to the last attempt. */
export async function whoRefused(key: string): Promise<string[]> {
  try {
    await (await redlock.acquire(key, 5_000)).release();
    return [];
  } catch (error) {
    if (!(error instanceof ResourceLockedError)) throw error;
    // e.g. ['10.0.0.1:6379 against', '10.0.0.2:6379 against', '10.0.0.3:6379 pending']
    return error.votes.map(({ node, vote }) => `${node} ${vote}`);
  }
}
// #endregion

/** Closes the example's connections. */
export const shutdown = () => redlock.quit();
