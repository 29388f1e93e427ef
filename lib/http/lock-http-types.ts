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
  /** The status to send. */
  statusCode: number;
  /** Whether the head has gone out (a lock error can then no longer become a 423). */
  readonly headersSent: boolean;
  /** Whether `end()` was called. */
  readonly writableEnded?: boolean;
  /** Whether the socket is gone. */
  readonly destroyed?: boolean;
  /** Sets a header before the head goes out. */
  setHeader(name: string, value: string): unknown;
  /** Sends the body and ends the response. */
  end(body?: string): unknown;
  /** Called once when the response closes, finished or aborted. */
  once(event: 'close', listener: () => void): unknown;
}

/** Resolves when `response` closes (finished, failed or aborted by the client). */
export function responseClosed(response: RawResponse): Promise<void> {
  return new Promise((resolve) => {
    if (response.destroyed || response.writableEnded) resolve();
    else response.once('close', resolve);
  });
}
