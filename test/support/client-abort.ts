import { expect } from '@jest/globals';
import { request } from 'node:http';
import { eventually } from './eventually.js';
import type { NodeProbe } from './node-probe.js';

/**
 * Sends a JSON POST to `path`, waits until every node holds `key` (the handler is running
 * under its lock), aborts the request from the client side, and waits for every node to let
 * the key go. Fails if the lock is never taken or never released.
 */
export async function abortWhileLocked(
  port: number,
  path: string,
  body: unknown,
  probe: NodeProbe,
  key: string,
  nodeCount: number,
): Promise<void> {
  const aborted = request({
    port,
    host: '127.0.0.1',
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
  });
  aborted.on('error', () => undefined);
  aborted.end(JSON.stringify(body));
  await eventually(async () =>
    expect((await probe.values(key)).filter(Boolean)).toHaveLength(nodeCount),
  );
  aborted.destroy();
  await eventually(async () =>
    expect(await probe.values(key)).toEqual(Array(nodeCount).fill(null)),
  );
}
