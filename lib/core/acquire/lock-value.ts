import { randomFillSync } from 'node:crypto';
import { PERMIT_VALUE_PREFIX, READER_VALUE_PREFIX } from '../scripts/keys.js';

/** Bytes of randomness in a lock value: 128 bits. */
export const LOCK_VALUE_BYTES = 16;

const POOL_VALUES = 256;
const pool = Buffer.alloc(LOCK_VALUE_BYTES * POOL_VALUES);
let next = POOL_VALUES;

/**
 * A new lock value: 128 bits from the operating system's CSPRNG, base64url-encoded. The bytes
 * are drawn 4 KiB at a time, since one small `randomBytes` call per lock costs more than the
 * rest of the lock's client-side work.
 */
export function newLockValue(): string {
  if (next === POOL_VALUES) {
    randomFillSync(pool);
    next = 0;
  }
  const start = LOCK_VALUE_BYTES * next++;
  return pool.toString('base64url', start, start + LOCK_VALUE_BYTES);
}

/** A new reader's lock value: a new lock value behind the mark the scripts know readers by. */
export function newReaderValue(): string {
  return READER_VALUE_PREFIX + newLockValue();
}

/** Whether `value` is a reader's (see {@link newReaderValue}). */
export function isReaderValue(value: string): boolean {
  return value.startsWith(READER_VALUE_PREFIX);
}

/** A new semaphore permit's lock value: a new lock value behind the permits' mark. */
export function newPermitValue(): string {
  return PERMIT_VALUE_PREFIX + newLockValue();
}

/** Whether `value` is a semaphore permit's (see {@link newPermitValue}). */
export function isPermitValue(value: string): boolean {
  return value.startsWith(PERMIT_VALUE_PREFIX);
}
