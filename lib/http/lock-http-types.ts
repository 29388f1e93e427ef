import type { Lock } from '../core/lock.js';

/** What `lockMiddleware` and `LockInterceptor` put on the request: `req.lock`. */
export interface RequestLock {
  /** The lock held for this request. */
  readonly lock: Lock;
  /** Aborted, with a `LockLostError`, once the lock can no longer be guaranteed. */
  readonly signal: AbortSignal;
}

/** The part of Node's `ServerResponse` the HTTP layers use (Express 4 and 5, Fastify's raw). */
export interface RawResponse {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableEnded?: boolean;
  readonly destroyed?: boolean;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/** Resolves when `response` closes (finished, failed or aborted by the client). */
export function responseClosed(response: RawResponse): Promise<void> {
  return new Promise((resolve) => {
    if (response.destroyed || response.writableEnded) resolve();
    else response.once('close', resolve);
  });
}
