import { Redis } from 'ioredis';
import type { RedisServer } from './redis-nodes.js';

/**
 * Direct connections to the test servers, to look at what the engine left on each node (keys,
 * values, ttls, command counts) and to plant state, independently of the code under test.
 */
export class NodeProbe {
  private readonly clients: Redis[];

  constructor(servers: readonly RedisServer[]) {
    this.clients = servers.map(
      (server) =>
        new Redis({
          port: server.port,
          host: '127.0.0.1',
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          enableOfflineQueue: false,
          retryStrategy: () => 200,
        }),
    );
  }

  async connect(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.connect().catch(() => undefined)));
  }

  /** The client for server `index`. */
  at(index: number): Redis {
    return this.clients[index];
  }

  /** `key`'s value on each node (null where absent, undefined where the node is down). */
  async values(key: string): Promise<(string | null | undefined)[]> {
    return Promise.all(this.clients.map((client) => client.get(key).catch(() => undefined)));
  }

  /** `key`'s PTTL on each node. */
  async ttls(key: string): Promise<(number | undefined)[]> {
    return Promise.all(this.clients.map((client) => client.pttl(key).catch(() => undefined)));
  }

  /** How many times each node has run `command` (from INFO commandstats). */
  async calls(command: string): Promise<number[]> {
    return Promise.all(
      this.clients.map(async (client) => {
        const info = await client.info('commandstats');
        const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
        return match ? Number(match[1]) : 0;
      }),
    );
  }

  /**
   * How many lock commands each node has run: scripts (acquires, releases, extensions) and
   * plain SETs (an acquire's first attempt). A new connection's probe script counts too: let
   * the engine connect (an operation or `health()`) before taking the first count.
   */
  async lockCommands(): Promise<number[]> {
    const [scripts, sets] = [await this.calls('evalsha'), await this.calls('set')];
    return scripts.map((count, index) => count + sets[index]);
  }

  /** Empties every reachable node. */
  async flush(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.flushall().catch(() => undefined)));
  }

  async quit(): Promise<void> {
    this.clients.forEach((client) => client.disconnect());
  }
}
