import type { LuaScript } from '../scripts/lua-script.js';
import { RELEASE_SCRIPT } from '../scripts/scripts.js';
import { queueKeys, readKeys } from '../scripts/keys.js';
import {
  HAND_OFF_RELEASE_SCRIPT,
  RELEASE_WITH_HAND_OFF_SCRIPT,
} from '../scripts/wait-queue-scripts.js';
import { READ_RELEASE_SCRIPT } from '../scripts/read-write-scripts.js';
import { SEMAPHORE_RELEASE_SCRIPT } from '../scripts/semaphore-scripts.js';
import { isReaderValue } from './lock-value.js';

/** A semaphore's limit, and the permit's slot where it is known (internal). */
export interface PermitRelease {
  readonly limit: number;
  readonly slot?: number;
}

/** A script with its keys and arguments, ready to send to every node (internal). */
export interface ScriptCall {
  readonly script: LuaScript;
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
}

/**
 * The release of `value` on `resources`: with queues, the hand-off release, which passes each
 * freed key to its first waiter and, given the holder's queue `member`, also takes the holder
 * out of the queues (a node may list it still); without queues (a Redis Cluster node), the
 * plain compare-and-delete. A reader's value (one resource) takes the read release, a
 * semaphore's (`permit` given) the semaphore release.
 */
export function releaseCall(
  usesQueues: boolean,
  resources: readonly string[],
  value: string,
  member?: string,
  permit?: PermitRelease,
): ScriptCall {
  if (permit) {
    return {
      script: SEMAPHORE_RELEASE_SCRIPT,
      keys: queueKeys(resources),
      args: [
        value,
        permit.limit,
        permit.slot ?? '',
        member === undefined ? 'release' : 'leave',
        member ?? '',
      ],
    };
  }
  if (isReaderValue(value)) {
    return {
      script: READ_RELEASE_SCRIPT,
      keys: readKeys(resources[0]),
      args: [value, member === undefined ? 'release' : 'leave', member ?? ''],
    };
  }
  if (!usesQueues) return { script: RELEASE_SCRIPT, keys: resources, args: [value] };
  if (member === undefined) {
    return { script: RELEASE_WITH_HAND_OFF_SCRIPT, keys: queueKeys(resources), args: [value] };
  }
  return {
    script: HAND_OFF_RELEASE_SCRIPT,
    keys: queueKeys(resources),
    args: [value, 'leave', member],
  };
}

/**
 * A permit holder's trim: deletes the other slots `value` holds on a node (nodes that granted
 * it other slots than the permit's) and hands them to the waiters.
 */
export function trimCall(key: string, value: string, limit: number, slot: number): ScriptCall {
  return {
    script: SEMAPHORE_RELEASE_SCRIPT,
    keys: queueKeys([key]),
    args: [value, limit, slot, 'trim', ''],
  };
}

/**
 * A waiter's drop of what a failed attempt of `value` may have been granted, keeping its place
 * in the queues under `member` (`previousMember` leaves them): see the hand-off release's
 * `stay` mode.
 */
export function stayCall(
  resources: readonly string[],
  value: string,
  previousMember: string,
  member: string,
  priority: number | undefined,
  lifeMs: number,
  permit?: PermitRelease,
): ScriptCall {
  if (permit) {
    return {
      script: SEMAPHORE_RELEASE_SCRIPT,
      keys: queueKeys(resources),
      args: [value, permit.limit, '', 'stay', previousMember, member, priority ?? '', lifeMs],
    };
  }
  const reads = isReaderValue(value);
  return {
    script: reads ? READ_RELEASE_SCRIPT : HAND_OFF_RELEASE_SCRIPT,
    keys: reads ? readKeys(resources[0]) : queueKeys(resources),
    args: [value, 'stay', previousMember, member, priority ?? '', lifeMs],
  };
}
