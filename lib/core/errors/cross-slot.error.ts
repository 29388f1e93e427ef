import { FENCING_COUNTER_SUFFIX } from '../scripts/keys.js';
import { LockError } from './lock.error.js';

/**
 * A multi-resource lock on a Redis Cluster node whose keys hash to different slots: Redis
 * Cluster runs one script on one slot only.
 */
export class CrossSlotError extends LockError {
  /** The resources that were asked for. */
  readonly resources: readonly string[];

  /** @param fencing whether the slots differ because of the fencing counters. */
  constructor(resources: readonly string[], fencing = false) {
    super(
      'CROSS_SLOT',
      fencing
        ? `With fencing, the keys of ${JSON.stringify(resources)} and their counters ` +
            `("<resource>${FENCING_COUNTER_SUFFIX}") must hash to one Redis Cluster slot. Give the ` +
            'resources a hash tag, e.g. "{order:42}".'
        : `Resources ${JSON.stringify(resources)} hash to different Redis Cluster slots, so ` +
            'one script cannot lock them together. Give them a common hash tag, e.g. ' +
            '"{order:42}:items" and "{order:42}:payment".',
    );
    this.name = 'CrossSlotError';
    this.resources = resources;
  }
}
