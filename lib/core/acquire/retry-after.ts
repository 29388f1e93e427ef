import type { Tally } from '../nodes/quorum.js';

/**
 * How long until a quorum could be won, from the PTTLs that the refusing nodes answered (the
 * acquire script's positive replies; -1 means a key without expiry): the nodes that granted
 * are free once released, and the rest must wait for the holder's keys to expire, soonest
 * first. Infinity if a needed node's key never expires.
 */
export function retryAfterMs(
  tally: Pick<Tally<number>, 'yes' | 'replies'>,
  quorum: number,
): number {
  const heldFor = tally.replies
    .filter((reply): reply is number => reply !== undefined && reply !== 0)
    .map((reply) => (reply < 0 ? Number.POSITIVE_INFINITY : reply))
    .sort((a, b) => a - b);
  if (heldFor.length === 0) return 0;
  const needed = Math.max(1, quorum - tally.yes);
  return heldFor[Math.min(needed, heldFor.length) - 1];
}
