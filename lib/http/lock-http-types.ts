import type { Lock } from '../core/lock.js';

/** What `lockMiddleware` and `LockInterceptor` put on the request: `req.lock`. */
export interface RequestLock {
  /** The lock held for this request. */
  readonly lock: Lock;
  /**
   * Aborted once the handler should stop: with a `LockLostError` when the lock can no longer be
   * guaranteed, with a `RequestAbortedError` when the client went away (the lock is then held
   * until the handler ends the response, or lapses after its ttl).
   */
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
  /** Sends the body and ends the response. The HTTP layers wrap it to see the handler finish. */
  end(body?: string): unknown;
  /** Called once when the response closes: finished, or the client went away. */
  once(event: 'close', listener: () => void): unknown;
}
