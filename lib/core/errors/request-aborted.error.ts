import { LockError } from './lock.error.js';

/**
 * The client of an HTTP request went away (it closed the connection) before the response was
 * sent, or the request stopped being handled (a Nest interceptor outside `LockInterceptor`,
 * such as a timeout, unsubscribed) before the handler settled: the reason of
 * `req.lock.signal` and `RedlockService.current().signal` then. Stop the work: the lock stays
 * held until the handler settles (or lapses after its ttl, since it is no longer extended), so
 * nothing else enters the critical section meanwhile. A request still waiting for its lock
 * stops waiting, and its handler never runs.
 */
export class RequestAbortedError extends LockError {
  /** The resources the request was locking. */
  readonly resources: readonly string[];

  /**
   * @param why what ended the request, if not the client: e.g. a timeout interceptor that
   * stopped waiting for the handler.
   */
  constructor(
    resources: readonly string[],
    why = 'The client closed the request before the response was sent.',
  ) {
    super(
      'REQUEST_ABORTED',
      `${why} Stop the work: the lock is held until the handler settles, and is no longer extended.`,
    );
    this.name = 'RequestAbortedError';
    this.resources = resources;
  }
}
