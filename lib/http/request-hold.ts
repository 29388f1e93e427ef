import { RequestAbortedError } from '../core/errors/index.js';
import type { Lock } from '../core/lock.js';
import type { RawResponse } from './lock-http-types.js';

/**
 * How long one HTTP request holds its lock, as the HTTP layers see its response (internal).
 *
 * The rule: a lock is never given up while the handler may still run. A client that hangs up
 * closes the response, but not the handler: `signal` then aborts (with `RequestAbortedError`)
 * so that the handler and a wait for the lock can stop, and the lock is held on until the
 * handler is known to be done, or until its validity runs out, since it is no longer extended
 * (see `Redlock.using`'s `options.signal`).
 */
export class RequestHold {
  private readonly controller = new AbortController();
  private readonly response: RawResponse;
  private readonly resources: readonly string[];
  private readonly patchedEnd: RawResponse['end'];
  /** `end` as the response had it: its own property (another wrapper's), or its class's. */
  private readonly ownEnd: RawResponse['end'] | undefined;
  private markEnded!: () => void;
  private markClosed!: () => void;
  /** Resolves once the handler ends the response: `end()` was called (`send`, `json`, a pipe). */
  readonly ended: Promise<void>;
  /** Resolves once the response was ended or closed (the client went away). */
  readonly endedOrClosed: Promise<void>;

  /**
   * @param response the raw Node response (Express's, or Fastify's `reply.raw`).
   * @param resources what the request locks, for the abort reason.
   */
  constructor(response: RawResponse, resources: string | readonly string[]) {
    this.response = response;
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
    this.endedOrClosed = new Promise((resolve) => (this.markClosed = resolve));
    void this.ended.then(this.markClosed);
    this.resources = typeof resources === 'string' ? [resources] : resources;
    const reason = new RequestAbortedError(this.resources);
    const originalEnd = response.end;
    const markEnded = () => this.markEnded();
    this.ownEnd = Object.prototype.hasOwnProperty.call(response, 'end') ? originalEnd : undefined;
    this.patchedEnd = function end(this: RawResponse, ...args: unknown[]) {
      markEnded();
      return (originalEnd as (...a: unknown[]) => unknown).apply(this, args);
    } as RawResponse['end'];
    if (response.writableEnded) {
      this.markEnded();
      return;
    }
    response.end = this.patchedEnd;
    const onClose = () => {
      this.markClosed();
      if (!response.writableEnded) this.controller.abort(reason);
    };
    if (response.destroyed) onClose();
    else response.once('close', onClose);
  }

  /**
   * Nobody waits for the handler any more (an outer interceptor unsubscribed, e.g. a timeout),
   * so its end cannot be seen: treated as a hang-up, the signal aborts and the lock lapses.
   */
  abandon(why: string): void {
    if (!this.signal.aborted) this.controller.abort(new RequestAbortedError(this.resources, why));
  }

  /** Aborted, with a `RequestAbortedError`, when the client goes away before the response ends. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Resolves once `done` settles, or, after the client went away, once `lock` has no validity
   * left (it is no longer extended then, so an abandoned lock lapses within its ttl). Leaves
   * no timer behind.
   */
  holdUntil(done: Promise<unknown>, lock: Lock): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', check);
        resolve();
      };
      // Re-armed rather than computed once: an extension in flight at the abort may still
      // add validity.
      function check(): void {
        const validityMs = lock.validityMs;
        if (validityMs <= 0) finish();
        else timer = setTimeout(check, validityMs).unref();
      }
      if (this.signal.aborted) check();
      else this.signal.addEventListener('abort', check, { once: true });
      done.then(finish, finish);
    });
  }

  /** Puts the response's own `end` back, if nobody has wrapped it since. */
  dispose(): void {
    if (this.response.end !== this.patchedEnd) return;
    if (this.ownEnd) this.response.end = this.ownEnd;
    else delete (this.response as Partial<RawResponse>).end;
  }
}
