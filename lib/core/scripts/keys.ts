/**
 * Every Redis key and channel name the engine uses beside a resource, in one place: its wait
 * queue, its release channels, its fencing counter, its readers, and a fenced store's highest
 * token seen.
 * All lie in the reserved namespace `:redlock:`. Suffixes keep the resource's `{hash tag}`, so
 * that on a Redis Cluster node they share the resource's slot when its name has a tag (the
 * queue is not used on Cluster nodes all the same, see `Redlock`).
 */

/** What every key the engine keeps beside a resource contains; no resource name may. */
export const RESERVED_NAMESPACE = ':redlock:';

/** The suffix of a resource's fencing counter key. */
export const FENCING_COUNTER_SUFFIX = ':redlock:fence';

/**
 * The key of `resource`'s fencing counter on each node: the resource's name plus
 * `:redlock:fence`.
 */
export function fencingCounterKey(resource: string): string {
  return resource + FENCING_COUNTER_SUFFIX;
}

/** The suffix of the key in which a `FencedRedisStore` keeps a key's highest token. */
export const FENCE_SEEN_SUFFIX = ':redlock:fence-seen';

/** The sorted set of a resource's waiters, scored by when each began to wait. */
function waitersKey(resource: string): string {
  return resource + ':redlock:waiters';
}

/** The sorted set of the same waiters, scored by the node time at which each entry lapses. */
function waiterDeadlinesKey(resource: string): string {
  return resource + ':redlock:deadlines';
}

/**
 * The prefix of each instance's release channel for `resource`. The release script names it
 * from the key as the node sees it; channels are not keys, so the client's key prefix is
 * written out here.
 */
function releaseChannel(keyPrefix: string, resource: string): string {
  return keyPrefix + resource + RELEASE_CHANNEL_SUFFIX;
}

/**
 * The channel on which a node tells the waiters of one Redlock instance (its `inbox`) that
 * `resource` was handed to one of them: the message is the value it was handed to (the lock
 * now belongs to that waiter on this node; a fenced waiter is only woken). One notice goes to
 * one instance, however many wait on the resource.
 */
export function inboxChannel(keyPrefix: string, resource: string, inbox: string): string {
  return `${releaseChannel(keyPrefix, resource)}:${inbox}`;
}

/** What a resource's key name is followed by in its release channel's name. */
export const RELEASE_CHANNEL_SUFFIX = ':redlock:released';

/**
 * How a waiter appears in a queue: `<ttl>:<inbox>:<value>`. A ttl of 0 marks a waiter that
 * must take the lock itself (fenced locks, whose grant increments a counter): it is woken, not
 * handed to. `inbox` names the channel its instance listens on (see {@link inboxChannel}).
 */
export function waiterMember(value: string, handOffTtlMs: number, inbox: string): string {
  return `${handOffTtlMs}:${inbox}:${value}`;
}

/**
 * The keys the queue scripts take for `resources`: the resources, then their waiters, then
 * their waiter deadlines.
 */
export function queueKeys(resources: readonly string[]): string[] {
  if (resources.length === 1) {
    const [resource] = resources;
    return [resource, waitersKey(resource), waiterDeadlinesKey(resource)];
  }
  return [...resources, ...resources.map(waitersKey), ...resources.map(waiterDeadlinesKey)];
}

/** The sorted set of a resource's readers, scored by the node time at which each lapses. */
function readersKey(resource: string): string {
  return resource + ':redlock:readers';
}

/**
 * What a resource's key holds while readers hold it: no lock value can equal it, so writers'
 * SET NX and queued attempts find the key held.
 */
export const READERS_MARKER = '!readers';

/**
 * What a reader's lock value starts with: not a base64url character, so the scripts can tell a
 * reader's value (in the wait queue, or handed the key) from a writer's.
 */
export const READER_VALUE_PREFIX = '~';

/** The keys the read scripts take for `resource`: its queue keys, then its readers. */
export function readKeys(resource: string): string[] {
  return [resource, waitersKey(resource), waiterDeadlinesKey(resource), readersKey(resource)];
}

/**
 * What a semaphore's key holds while any of its permits is held: this prefix and the
 * semaphore's limit (`!sem:3`). No lock value can equal it, so mutexes and readers find the key
 * held, and the scripts tell them (and a semaphore with another limit) the key is used as a
 * semaphore.
 */
export const SEMAPHORE_MARKER_PREFIX = '!sem:';

/**
 * What separates a semaphore's key from a slot's number in the name of the slot's key:
 * `<key>:redlock:permit:<slot>`. The scripts name the slots from the key they are given (so
 * semaphores need standalone nodes, not Redis Cluster).
 */
export const PERMIT_SLOT_INFIX = ':redlock:permit:';

/** What a semaphore permit's lock value starts with (see {@link READER_VALUE_PREFIX}). */
export const PERMIT_VALUE_PREFIX = '^';

/** The name of slot `slot` of the semaphore `key` (for tests and tools; scripts build it). */
export function permitSlotKey(key: string, slot: number): string {
  return `${key}${PERMIT_SLOT_INFIX}${slot}`;
}

/**
 * What a slot handed to a waiter holds until the waiter takes it: this prefix and the waiter's
 * value. Not a base64url character, nor a reader's or permit's prefix.
 */
export const HANDED_SLOT_PREFIX = '?';
