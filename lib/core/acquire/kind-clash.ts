import type { LockKind } from '../errors/index.js';

/**
 * A node's answer that the key asked for is used as another kind of lock: `['kind', what]`,
 * where `what` is `mutex`, `read` or `semaphore:<limit>` (internal).
 */
export type KindClashReply = readonly ['kind', LockKind];

/** Whether a script's reply is a {@link KindClashReply}. */
export function isKindClash(reply: unknown): reply is KindClashReply {
  return Array.isArray(reply) && reply[0] === 'kind';
}

/** The kind the first clash among `replies` names, or undefined if none clashed. */
export function kindClashIn(replies: readonly unknown[]): LockKind | undefined {
  const clash = replies.find(isKindClash);
  return clash?.[1];
}
