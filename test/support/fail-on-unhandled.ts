import { afterEach, expect } from '@jest/globals';

/** Unhandled rejections fail the test during which they surfaced. */
const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', record);

afterEach(async () => {
  // Let pending rejections surface before looking.
  await new Promise((resolve) => setImmediate(resolve));
  const seen = unhandled.splice(0);
  expect(seen).toEqual([]);
});
