import type { Lock } from '../core/lock.js';
import { ACQUIRE_OPTION_KEYS, type AcquireOptions } from '../core/options.js';
import { optionKeys } from '../core/util/known-options.js';
import { lockErrorResponse, type LockHttpOptions } from '../http/lock-error-response.js';
import { assertLockOptions, assertOneKeyToRead, readResource } from '../http/lock-options.js';
import { isLockError } from '../core/errors/index.js';
import type { RawResponse, RequestLock } from '../http/lock-http-types.js';
import { keyTemplates, TRACE_AS } from '../core/telemetry/trace-labels.js';
import { RequestHold } from '../http/request-hold.js';
import { DEFAULT_TTL_MS } from '../http/lock-defaults.js';
import { requestKeyResolver, type RequestLike } from '../keys/request-key-template.js';

/** Anything with the engine's `using()`: a core `Redlock` or Nest's `RedlockService`. */
export interface LockRunner {
  /** Acquires `resources`, runs `routine` while extending the lock, then releases it. */
  using<T>(
    resources: string | readonly string[],
    ttlMs: number,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T>,
    options?: AcquireOptions,
  ): Promise<T>;
  /** The same with a permit of a semaphore (for `limit`). */
  usingSemaphore?<T>(
    key: string,
    limit: number,
    ttlMs: number,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T>,
    options?: AcquireOptions,
  ): Promise<T>;
  /** The same with a read lock on one resource (for `mode: 'read'`). */
  usingRead?<T>(
    resource: string,
    ttlMs: number,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T>,
    options?: AcquireOptions,
  ): Promise<T>;
}

/** Options of `lockMiddleware()`. */
export interface LockMiddlewareOptions extends Omit<AcquireOptions, 'signal'>, LockHttpOptions {
  /** The engine: a `Redlock` from `nestjs-redlock/core`, or `app.get(RedlockService)`. */
  redlock: LockRunner;
  /**
   * What to lock: a template over the request (`'order:<params.id>'`, `<query.x>`,
   * `<body.x>`, `<headers.x-tenant-id>`, `<user.id>`), several, or `(req) => keys`.
   */
  key: string | readonly string[] | ((request: never) => string | readonly string[]);
  /**
   * The lock's ttl in milliseconds; extended while the request is handled.
   * @default 10000
   */
  ttlMs?: number;
  /**
   * `'read'`: a read lock, shared with the other readers of the resource (one key, no
   * `fencing`); a request that writes it (`'write'`, the default) answers 423 meanwhile.
   * @default 'write'
   */
  mode?: 'read' | 'write';
  /**
   * A permit of a semaphore of this many instead of a lock (one key, no `mode`, no
   * `fencing`): at most `limit` requests on the key are handled at once, across every
   * instance; the others answer 429 Too Many Requests with `Retry-After`.
   */
  limit?: number;
}

/** Every key of {@link LockMiddlewareOptions}. */
const MIDDLEWARE_OPTION_KEYS = optionKeys<LockMiddlewareOptions>()([
  ...ACQUIRE_OPTION_KEYS.filter((key): key is Exclude<typeof key, 'signal'> => key !== 'signal'),
  'redlock',
  'key',
  'ttlMs',
  'unavailableStatus',
  'mode',
  'limit',
]);

/**
 * Express middleware (4 and 5) that holds a distributed lock while a request is handled:
 * acquired before the route runs, extended meanwhile, released when the handler ends the
 * response (`send`, `json`, `end`, a pipe). A client that hangs up first aborts
 * `req.lock.signal` (with `RequestAbortedError`) and stops the extensions, but does not release
 * the lock: it is held until the handler ends the response or, if it never does, until its ttl
 * runs out. A request still waiting for its lock then stops waiting; its handler never runs.
 * A lock held elsewhere answers 423 Locked with `Retry-After` (a semaphore with every permit
 * held, `limit`, 429 Too Many Requests); a request without a value the
 * key needs answers 400; too few Redis nodes answer 423 (or `unavailableStatus`). The route
 * sees the lock as `req.lock`.
 *
 * @example
 * app.post('/orders/:id/pay', lockMiddleware({ redlock, key: 'order:<params.id>', waitMs: 0 }), pay);
 */
export function lockMiddleware(options: LockMiddlewareOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('lockMiddleware: expected an options object with `redlock` and `key`');
  }
  const {
    redlock,
    key,
    ttlMs = DEFAULT_TTL_MS,
    unavailableStatus,
    mode: askedMode,
    limit,
    ...acquireOptions
  } = options;
  // `redlock` and `key` are the middleware's own; the rest is checked as the decorators' is.
  assertLockOptions(
    { ttlMs, unavailableStatus, mode: askedMode, limit, ...acquireOptions },
    MIDDLEWARE_OPTION_KEYS,
    'lockMiddleware',
  );
  const mode = askedMode ?? 'write';
  assertOneKeyToRead(key, mode, 'lockMiddleware', limit);
  if (typeof redlock?.using !== 'function') {
    throw new TypeError('lockMiddleware: expected `redlock` to be a Redlock or a RedlockService');
  }
  if (limit !== undefined && typeof redlock.usingSemaphore !== 'function') {
    throw new TypeError(
      'lockMiddleware: `limit` needs `redlock` to be a Redlock or a RedlockService of this ' +
        'version (with usingSemaphore)',
    );
  }
  if (mode === 'read' && typeof redlock.usingRead !== 'function') {
    throw new TypeError(
      "lockMiddleware: mode 'read' needs `redlock` to be a Redlock or a RedlockService of this " +
        'version (with usingRead)',
    );
  }
  const resolveKeys = requestKeyResolver(key, 'lockMiddleware');
  // Traced with the key templates (a request's path may carry user values).
  const traced = { [TRACE_AS]: { operation: 'lockMiddleware', templates: keyTemplates(key) } };
  const httpOptions = { unavailableStatus };

  return function redlockMiddleware<Request extends RequestLike, Response extends RawResponse>(
    request: Request,
    response: Response,
    next: (error?: unknown) => void,
  ): void {
    let resources: string | readonly string[];
    try {
      resources = resolveKeys(request);
    } catch (error) {
      answerOrPass(error, response, next, httpOptions);
      return;
    }
    // Express cannot tell when a handler is done, only when it ends the response: the lock is
    // held until then, or, once the client went away, until it lapses.
    const hold = new RequestHold(response, resources);
    const using =
      limit !== undefined
        ? redlock.usingSemaphore!.bind(redlock, readResource(resources), limit)
        : mode === 'read'
          ? redlock.usingRead!.bind(redlock, readResource(resources))
          : redlock.using.bind(redlock, resources);
    using(
      ttlMs,
      (signal, lock) => {
        (request as { lock?: RequestLock }).lock = { lock, signal };
        next();
        return hold.holdUntil(hold.ended, lock);
      },
      { ...acquireOptions, signal: hold.signal, ...traced },
    )
      .catch((error: unknown) => {
        // The client went away while the request waited: nobody is left to answer.
        if (isLockError(error, 'REQUEST_ABORTED')) return;
        answerOrPass(error, response, next, httpOptions);
      })
      .finally(() => hold.dispose());
  };
}

function answerOrPass(
  error: unknown,
  response: RawResponse,
  next: (error?: unknown) => void,
  options: LockHttpOptions,
): void {
  const answer = lockErrorResponse(error, options);
  if (!answer || response.headersSent) {
    next(error);
    return;
  }
  response.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) response.setHeader(name, value);
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.end(JSON.stringify(answer.body));
}
