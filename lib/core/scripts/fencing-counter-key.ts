/** The suffix of a resource's fencing counter key. */
export const FENCING_COUNTER_SUFFIX = ':redlock:fence';

/**
 * The key of `resource`'s fencing counter on each node: the resource's name plus
 * `:redlock:fence`. A suffix keeps the resource's `{hash tag}`, so on a Redis Cluster node the
 * counter shares the lock key's slot whenever the resource name has a tag.
 */
export function fencingCounterKey(resource: string): string {
  return resource + FENCING_COUNTER_SUFFIX;
}
