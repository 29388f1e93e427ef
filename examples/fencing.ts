/*
 * The README's fencing example, type-checked and run by test/examples.spec.ts against real
 * Redis nodes (REDLOCK_NODES) and a storage Redis (STORAGE_URL).
 */
// #region fencing
import { Redis } from 'ioredis';
import { FencedRedisStore, Redlock } from 'nestjs-redlock/core';

const redlock = new Redlock(process.env.REDLOCK_NODES!.split(','), { fencing: true });
// The data lives in storage that checks the token on every read and write.
const storage = new Redis(process.env.STORAGE_URL!);
const balances = new FencedRedisStore(storage);

/** Adds to a balance. A holder that paused past its lock cannot write a stale total. */
export async function credit(account: string, amount: number): Promise<number> {
  return redlock.using(`balance:${account}`, 5_000, async (_signal, lock) => {
    const token = lock.fencingToken!; // a bigint, larger than every earlier holder's
    const balance = Number((await balances.get(`balance:${account}`, token)) ?? 0) + amount;
    // Throws StaleFencingTokenError if a newer holder has read or written since.
    await balances.set(`balance:${account}`, String(balance), token);
    return balance;
  });
}
// #endregion

/** Closes the example's connections. */
export async function shutdown(): Promise<void> {
  await redlock.quit();
  await storage.quit();
}
