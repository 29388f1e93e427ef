import type { LuaScript } from '../scripts/lua-script.js';
import { RELEASE_SCRIPT } from '../scripts/scripts.js';
import { queueKeys } from '../scripts/keys.js';
import {
  HAND_OFF_RELEASE_SCRIPT,
  RELEASE_WITH_HAND_OFF_SCRIPT,
} from '../scripts/wait-queue-scripts.js';

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
 * plain compare-and-delete.
 */
export function releaseCall(
  usesQueues: boolean,
  resources: readonly string[],
  value: string,
  member?: string,
): ScriptCall {
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
