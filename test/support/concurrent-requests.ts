import { expect } from '@jest/globals';
import type { Server } from 'node:http';
import request from 'supertest';

/**
 * POSTs `body` to `path` twice, the second 50 ms after the first, while the first holds the
 * route's lock; checks that the first succeeds with `status` and the second gets 423 Locked
 * with `Retry-After` and the standard JSON body, which does not name `resource` (an internal
 * name). Answers the first's body.
 */
export async function expectSecondLocked(
  server: Server,
  path: string,
  body: object,
  status: number,
  resource: string,
): Promise<unknown> {
  const [first, second] = await Promise.all([
    request(server).post(path).send(body),
    new Promise((resolve) => setTimeout(resolve, 50)).then(() =>
      request(server).post(path).send(body),
    ),
  ]);
  expect(first.status).toBe(status);
  expect(second.status).toBe(423);
  expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(second.body).toEqual({
    statusCode: 423,
    error: 'Locked',
    message: expect.any(String),
    reason: 'locked',
  });
  expect(second.text).not.toContain(resource);
  return first.body;
}
