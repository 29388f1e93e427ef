import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { Redlock, type RedlockOptions } from '../../lib/index.js';
import { NodeProbe } from './node-probe.js';
import { RedisCluster } from './redis-nodes.js';

/** What a spec gets from {@link useRedisNodes}. */
export interface TestBed {
  /** The running servers (set in beforeAll). */
  readonly cluster: RedisCluster;
  /** Direct connections to them, for looking and planting. */
  readonly probe: NodeProbe;
  /** A Redlock over every server, closed after the test. */
  make(options?: RedlockOptions): Redlock;
}

/**
 * Starts `count` real redis-server nodes for a describe block: a probe on them, Redlocks made
 * with `defaults` and closed after each test, nodes flushed after each test and stopped after
 * the block.
 */
export function useRedisNodes(count: number, defaults: RedlockOptions = {}): TestBed {
  const redlocks: Redlock[] = [];
  const bed = {
    cluster: undefined as unknown as RedisCluster,
    probe: undefined as unknown as NodeProbe,
    make(options: RedlockOptions = {}) {
      const redlock = new Redlock(bed.cluster.urls, { ...defaults, ...options });
      redlocks.push(redlock);
      return redlock;
    },
  };
  beforeAll(async () => {
    bed.cluster = await RedisCluster.start(count);
    bed.probe = new NodeProbe(bed.cluster.servers);
    await bed.probe.connect();
  });
  afterEach(async () => {
    await Promise.all(redlocks.splice(0).map((redlock) => redlock.quit()));
    await bed.probe.flush();
  });
  afterAll(async () => {
    await bed.probe.quit();
    await bed.cluster.stop();
  });
  return bed;
}
