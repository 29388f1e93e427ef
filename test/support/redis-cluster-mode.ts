import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { RedisCluster } from './redis-nodes.js';

const run = promisify(execFile);

/**
 * A real Redis Cluster of `size` masters (no replicas) on loopback, made with
 * `redis-cli --cluster create`, resolved once every node reports `cluster_state:ok`.
 */
export async function startRedisClusterMode(size = 3): Promise<RedisCluster> {
  const servers = await RedisCluster.start(size, { cluster: true });
  try {
    const addresses = servers.servers.map((server) => `127.0.0.1:${server.port}`);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const deadline = Date.now() + 10_000;
    for (const server of servers.servers) {
      const client = new Redis({ port: server.port, host: '127.0.0.1' });
      try {
        while (!/cluster_state:ok/.test(await client.cluster('INFO'))) {
          if (Date.now() > deadline)
            throw new Error(`cluster on ${addresses.join(',')} did not converge`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        client.disconnect();
      }
    }
    return servers;
  } catch (error) {
    await servers.stop();
    throw error;
  }
}
