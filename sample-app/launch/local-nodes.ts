import { RedisCluster } from '../../test/support/redis-nodes.js';

/** The lock nodes the sample runs on, and how to stop the ones started here. */
export interface LockNodes {
  readonly urls: string[];
  /** Whether they were started here (and are stopped by `stop()`). */
  readonly local: boolean;
  readonly cluster?: RedisCluster;
  stop(): Promise<void>;
}

/**
 * The nodes named by `REDLOCK_NODES`, or 3 local redis-server processes on free loopback ports
 * (in temporary directories, without persistence) when it is not set.
 */
export async function lockNodes(): Promise<LockNodes> {
  const named = process.env.REDLOCK_NODES;
  if (named) {
    return { urls: named.split(','), local: false, stop: async () => undefined };
  }
  const cluster = await RedisCluster.start(3);
  return { urls: cluster.urls, local: true, cluster, stop: () => cluster.stop() };
}
