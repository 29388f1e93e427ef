import type { RedisOptions } from 'ioredis';

/**
 * Checks that no Redis node is listed twice: a node listed twice votes twice, so a "majority"
 * could be one node short of a real one (two locks on one key at once). Nodes are compared by
 * host (`localhost` as `127.0.0.1`, case ignored), port and database, or socket path; an
 * instance passed in by its options.
 * @throws {TypeError} naming both positions in `nodes`.
 */
export function assertDistinctNodes(connections: readonly (RedisOptions | undefined)[]): void {
  const seen = new Map<string, number>();
  connections.forEach((options, index) => {
    if (options === undefined) return;
    const identity = nodeIdentity(options);
    const first = seen.get(identity);
    if (first !== undefined) {
      throw new TypeError(
        `Expected \`nodes\` to be distinct Redis nodes: \`nodes[${first}]\` and ` +
          `\`nodes[${index}]\` are both ${identity}. A node listed twice votes twice, so a ` +
          'quorum could be one node short of a real majority. List each independent node once.',
      );
    }
    seen.set(identity, index);
  });
}

function nodeIdentity(options: RedisOptions): string {
  const db = options.db ?? 0;
  if (options.path) return `${options.path} (db ${db})`;
  let host = (options.host ?? 'localhost').toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') host = '127.0.0.1';
  return `${host}:${options.port ?? 6379} (db ${db})`;
}
