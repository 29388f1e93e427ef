/**
 * The most permits a semaphore may have. Each node's scripts look at every slot when the
 * semaphore is contended, so their work grows with the limit; 1000 keeps it well under a
 * millisecond.
 */
export const MAX_SEMAPHORE_LIMIT = 1000;

/** Throws a RangeError unless `limit` is a whole number of permits from 1 to the maximum. */
export function assertSemaphoreLimit(limit: unknown): asserts limit is number {
  if (
    typeof limit !== 'number' ||
    !Number.isInteger(limit) ||
    limit < 1 ||
    limit > MAX_SEMAPHORE_LIMIT
  ) {
    throw new RangeError(
      `Expected \`limit\` of a semaphore to be a whole number of permits from 1 to ` +
        `${MAX_SEMAPHORE_LIMIT}, got ${typeof limit === 'number' ? limit : typeof limit}`,
    );
  }
}
