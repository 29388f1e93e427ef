import {
  HttpException,
  Inject,
  Injectable,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { catchError, Observable, throwError } from 'rxjs';
import { lockErrorResponse, type LockHttpOptions } from '../http/lock-error-response.js';
import { isLockError } from '../core/errors/index.js';
import type { RawResponse, RequestLock } from '../http/lock-http-types.js';
import { TRACE_AS, type TracedOptions } from '../core/telemetry/trace-labels.js';
import { RequestHold } from '../http/request-hold.js';
import { readResource } from '../http/lock-options.js';
import type { RequestLike } from '../keys/request-key-template.js';
import type { LockRouteMetadata } from './lock-route.decorator.js';
import {
  LOCK_ROUTE_METADATA,
  LOCK_ROUTE_TAKEN,
  REDLOCK_MODULE_OPTIONS,
} from './redlock.constants.js';
import type { RedlockModuleOptions } from './redlock-module-options.js';
import { DEFAULT_UNAVAILABLE_STATUS } from '../http/lock-defaults.js';
import { RedlockService } from './redlock.service.js';

/**
 * Holds the lock that `@LockRoute()` declares while a request is handled: acquired before the
 * handler, extended meanwhile, released once the handler's observable has settled and the
 * response has ended (a streamed body included). A client that hangs up first aborts the
 * lock's signal (`req.lock.signal`, `RedlockService.current().signal`) with
 * `RequestAbortedError` and stops the extensions; the lock is still held until the handler
 * settles, or lapses after its ttl. A request still waiting for its lock stops waiting, and its
 * handler never runs. Answers 423 Locked with `Retry-After` when the lock is held
 * elsewhere, 400 when the request lacks a key value, and 423 (or `unavailableStatus`) when too
 * few Redis nodes answer; lock errors thrown by the handler (e.g. from `@WithLock`) are
 * answered the same way. Use it per route, per controller, or globally (`APP_INTERCEPTOR`).
 * A guard could not do this: it has no hook after the handler, so it would leak the lock.
 */
@Injectable()
export class LockInterceptor implements NestInterceptor {
  private readonly unavailableStatus: 423 | 503;

  constructor(
    private readonly redlock: RedlockService,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    @Optional()
    @Inject(REDLOCK_MODULE_OPTIONS)
    options?: Pick<RedlockModuleOptions, 'unavailableStatus'>,
  ) {
    this.unavailableStatus = options?.unavailableStatus ?? DEFAULT_UNAVAILABLE_STATUS;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const route = this.reflector.getAllAndOverride<LockRouteMetadata | undefined>(
      LOCK_ROUTE_METADATA,
      [context.getHandler(), context.getClass()],
    );
    const http = context.switchToHttp();
    const request = http.getRequest<
      RequestLike & { lock?: RequestLock; [LOCK_ROUTE_TAKEN]?: true }
    >();
    // Bound twice (by @LockRoute and globally): the outer one holds the lock while it runs the
    // rest of the chain, and answers. Set only while the lock is held (see below).
    if (request[LOCK_ROUTE_TAKEN]) return next.handle();
    const reply = http.getResponse<RawResponse & { raw?: RawResponse }>();
    const httpOptions: LockHttpOptions = {
      unavailableStatus: route?.unavailableStatus ?? this.unavailableStatus,
    };
    const answer = (error: unknown) => {
      const response = lockErrorResponse(error, httpOptions);
      if (!response) return throwError(() => error);
      for (const [name, value] of Object.entries(response.headers)) {
        this.adapterHost.httpAdapter.setHeader(reply, name, value);
      }
      return throwError(() => new HttpException(response.body, response.status));
    };
    if (!route) return next.handle().pipe(catchError(answer));

    return new Observable((subscriber) => {
      let resources: string | readonly string[];
      try {
        resources = route.resolveKeys(request);
      } catch (error) {
        return answer(error).subscribe(subscriber);
      }
      const { ttlMs, acquireOptions, mode, limit } = route;
      // Traced as the controller's method, with the route's key templates.
      const traced: TracedOptions = {
        [TRACE_AS]: {
          operation: `${context.getClass().name}.${context.getHandler().name}`,
          templates: route.templates,
        },
      };
      const hold = new RequestHold(reply.raw ?? reply, resources);
      let handling: { unsubscribe(): void } | undefined;
      let settled = false;
      const using =
        limit !== undefined
          ? this.redlock.usingSemaphore.bind(this.redlock, readResource(resources), limit)
          : mode === 'read'
            ? this.redlock.usingRead.bind(this.redlock, readResource(resources))
            : this.redlock.using.bind(this.redlock, resources);
      using(
        ttlMs,
        (signal, lock) => {
          request.lock = { lock, signal };
          request[LOCK_ROUTE_TAKEN] = true;
          // Held until the handler's observable settles and the response it produced has
          // ended (a streamed body too), or the client went away; not merely until the
          // response closes, which a client that hangs up does while the handler runs.
          const handled = new Promise<void>((settle) => {
            handling = next
              .handle()
              .pipe(catchError(answer))
              .subscribe({
                next: (value) => subscriber.next(value),
                error: (error: unknown) => {
                  settled = true;
                  delete request[LOCK_ROUTE_TAKEN];
                  subscriber.error(error);
                  settle();
                },
                complete: () => {
                  settled = true;
                  delete request[LOCK_ROUTE_TAKEN];
                  subscriber.complete();
                  settle();
                },
              });
          });
          return hold.holdUntil(
            handled.then(() => hold.endedOrClosed),
            lock,
          );
        },
        { ...acquireOptions, signal: hold.signal, ...traced },
      )
        .catch((error: unknown) => {
          if (handling) return;
          // The client went away while the request waited: answer quietly (nobody reads it).
          if (isLockError(error, 'REQUEST_ABORTED')) {
            subscriber.error(new HttpException(error.message, CLIENT_CLOSED_REQUEST));
          } else {
            answer(error).subscribe(subscriber);
          }
        })
        .finally(() => hold.dispose());
      return () => {
        // Unsubscribed before the handler settled (an outer timeout, say): its end can no
        // longer be seen, so stop waiting for the lock, or let it lapse, as for a hang-up.
        if (!settled) {
          hold.abandon(
            'The request stopped being handled (unsubscribed) before the handler settled.',
          );
        }
        handling?.unsubscribe();
        delete request[LOCK_ROUTE_TAKEN];
      };
    });
  }
}

/** The status nginx logs for a client that closed the request first; nobody receives it. */
const CLIENT_CLOSED_REQUEST = 499;
