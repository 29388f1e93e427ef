import {
  Catch,
  Inject,
  Injectable,
  Optional,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import {
  InvalidLockKeyError,
  QuorumUnavailableError,
  ResourceLockedError,
} from '../core/errors/index.js';
import { lockErrorResponse } from '../http/lock-error-response.js';
import { REDLOCK_MODULE_OPTIONS } from './redlock.constants.js';
import type { RedlockModuleOptions } from './redlock-module-options.js';
import { DEFAULT_UNAVAILABLE_STATUS } from '../http/lock-defaults.js';

/**
 * Answers the lock errors that reach Nest's exception layer, in any HTTP context (Express or
 * Fastify): `ResourceLockedError` 423 Locked with `Retry-After`, `QuorumUnavailableError` 423
 * (or the module's `unavailableStatus`), `InvalidLockKeyError` 400, with the same JSON body as
 * `LockInterceptor`, and no stack trace in the log. `@WithLock` deep in a service called from a
 * route without the interceptor thus answers 423, not 500. `RedlockModule` binds it globally
 * unless given `exceptionFilter: false`; then bind it yourself where you want it. Other
 * contexts (microservices, WebSockets, GraphQL) get the error back unchanged.
 */
@Catch(ResourceLockedError, QuorumUnavailableError, InvalidLockKeyError)
@Injectable()
export class LockExceptionFilter implements ExceptionFilter {
  private readonly unavailableStatus: 423 | 503;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional()
    @Inject(REDLOCK_MODULE_OPTIONS)
    options?: Pick<RedlockModuleOptions, 'unavailableStatus'>,
  ) {
    this.unavailableStatus = options?.unavailableStatus ?? DEFAULT_UNAVAILABLE_STATUS;
  }

  catch(error: Error, host: ArgumentsHost): Observable<never> | undefined {
    // Microservices take the error back as an observable; GraphQL and the rest would take a
    // returned value as the result, so the error is thrown on to them.
    if (host.getType() === 'rpc') return throwError(() => error);
    if (host.getType() !== 'http') throw error;
    const answer = lockErrorResponse(error, { unavailableStatus: this.unavailableStatus });
    const adapter = this.adapterHost.httpAdapter;
    const response: unknown = host.switchToHttp().getResponse();
    if (!answer || adapter.isHeadersSent(response)) {
      adapter.end(response);
      return undefined;
    }
    for (const [name, value] of Object.entries(answer.headers)) {
      adapter.setHeader(response, name, value);
    }
    adapter.reply(response, answer.body, answer.status);
    return undefined;
  }
}
