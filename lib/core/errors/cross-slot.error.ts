import { LockError } from './lock.error.js';

/**
 * A multi-resource lock on a Redis Cluster node whose keys hash to different slots: Redis
 * Cluster runs one script on one slot only.
 */
export class CrossSlotError extends LockError {
  /** The resources that were asked for. */
  readonly resources: readonly string[];

  constructor(resources: readonly string[]) {
    super(
      'CROSS_SLOT',
      `Resources ${JSON.stringify(resources)} hash to different Redis Cluster slots, so one ` +
        'script cannot lock them together. Give them a common hash tag, e.g. "{order:42}:items" ' +
        'and "{order:42}:payment".',
    );
    this.name = 'CrossSlotError';
    this.resources = resources;
  }
}
