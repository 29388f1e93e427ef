import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  type ArgumentsHost,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  Injectable,
  Param,
  Post,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { lastValueFrom, retry, type Observable } from 'rxjs';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  LockExceptionFilter,
  LockInterceptor,
  LockRoute,
  ResourceLockedError,
  RedlockModule,
  WithLock,
  type RedlockModuleRootOptions,
} from '../../lib/index.js';
import { useRedisNodes } from '../support/test-bed.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts handlers inside at once, per key. */
const inside = new Map<string, { now: number; most: number }>();
async function section(key: string, ms: number): Promise<void> {
  const entry = inside.get(key) ?? { now: 0, most: 0 };
  inside.set(key, entry);
  entry.now++;
  entry.most = Math.max(entry.most, entry.now);
  await sleep(ms);
  entry.now--;
}

/** No `@UseInterceptors` anywhere: `@LockRoute` must bring its own. */
@Controller('bare')
class BareController {
  @Post(':id')
  @LockRoute('bare:<params.id>', { retryCount: 0, ttlMs: 2_000 })
  async pay(@Param('id') id: string) {
    await section(`bare:${id}`, 150);
    return { paid: id };
  }
}

@Injectable()
class InvoiceService {
  @WithLock('invoice:<id>', { retryCount: 0, ttlMs: 2_000 })
  async send(id: string) {
    await section(`invoice:${id}`, 200);
    return { sent: id };
  }
}

/** An app-wide interceptor that re-runs the chain after an error, as rxjs `retry` does. */
@Injectable()
class RetryInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(retry({ count: 3, delay: 50 }));
  }
}

/** A route without `@LockRoute` whose service throws lock errors. */
@Controller('invoices')
class InvoicesController {
  constructor(private readonly invoices: InvoiceService) {}

  @Get(':id')
  send(@Param('id') id: string) {
    return this.invoices.send(id);
  }
}

/** Collects what Nest logs at error level. */
class ErrorLog implements LoggerService {
  readonly lines: string[] = [];
  error(message: unknown, ...rest: unknown[]) {
    this.lines.push([message, ...rest].map(String).join(' '));
  }
  log() {}
  warn() {}
}

describe('HTTP answers without a trap (3 real nodes)', () => {
  const bed = useRedisNodes(3);
  const apps: INestApplication[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  async function boot(
    options: Partial<RedlockModuleRootOptions> & {
      globalInterceptor?: boolean;
      retrying?: boolean;
      fastify?: boolean;
    } = {},
  ) {
    const { globalInterceptor, retrying, fastify, ...moduleOptions } = options;
    const logger = new ErrorLog();
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedlockModule.forRoot({
          nodes: bed.cluster.urls,
          logger: false,
          keyPrefix: 'svc:',
          ...moduleOptions,
        }),
      ],
      controllers: [BareController, InvoicesController],
      providers: [
        InvoiceService,
        // Registered first, so outermost: it re-runs the LockInterceptors inside it.
        ...(retrying ? [{ provide: APP_INTERCEPTOR, useClass: RetryInterceptor }] : []),
        ...(globalInterceptor ? [{ provide: APP_INTERCEPTOR, useClass: LockInterceptor }] : []),
      ],
    }).compile();
    const app = fastify
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return { server: app.getHttpServer(), log: logger };
  }

  it('@LockRoute without @UseInterceptors still locks: one 201, the others 423', async () => {
    const { server } = await boot();
    inside.clear();
    const responses = await Promise.all([0, 1, 2].map(() => request(server).post('/bare/7')));
    expect(responses.map((response) => response.status).sort()).toEqual([201, 423, 423]);
    expect(inside.get('bare:7')?.most).toBe(1);
  });

  it('@LockRoute with LockInterceptor also bound globally locks once, not twice', async () => {
    const { server } = await boot({ globalInterceptor: true });
    const commands = await bed.probe.calls('evalsha');
    const response = await request(server).post('/bare/8');
    expect(response.status).toBe(201);
    // One acquire and one release per node; a second interceptor would add two more each.
    const after = await bed.probe.calls('evalsha');
    expect(after.map((calls, node) => calls - commands[node])).toEqual([2, 2, 2]);
  });

  it('an outer interceptor that retries after a 423 never runs the handler without the lock', async () => {
    const { server } = await boot({ retrying: true });
    const other = bed.make();
    const held = await other.acquire('svc:bare:9', 3_000);
    inside.clear();
    try {
      const response = await request(server).post('/bare/9');
      // Every attempt found the lock held: 423, and the handler never ran.
      expect(response.status).toBe(423);
      expect(inside.get('bare:9')).toBeUndefined();
    } finally {
      await other.release(held);
    }
  });

  it.each([
    ['Express', false],
    ['Fastify', true],
  ])(
    '%s: a ResourceLockedError from @WithLock in a plain route answers 423, with no stack in the log',
    async (_adapter, fastify) => {
      const { server, log } = await boot({ fastify });
      const [first, second] = await Promise.all([
        request(server).get('/invoices/9'),
        sleep(50).then(() => request(server).get('/invoices/9')),
      ]);
      expect(first.status).toBe(200);
      expect(second.status).toBe(423);
      expect(second.headers['retry-after']).toMatch(/^\d+$/);
      expect(second.body).toEqual({
        statusCode: 423,
        error: 'Locked',
        message: 'The resource is locked by another request; retry later.',
        reason: 'locked',
      });
      // The module's key prefix and the key names stay inside the service.
      expect(second.text).not.toMatch(/svc:|invoice/);
      expect(log.lines).toEqual([]);
    },
  );

  it('a QuorumUnavailableError from @WithLock answers the module’s unavailableStatus', async () => {
    const { server } = await boot({ unavailableStatus: 503, nodeTimeoutMs: 100 });
    bed.cluster.servers[0].pause();
    bed.cluster.servers[1].pause();
    try {
      const response = await request(server).get('/invoices/10');
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ reason: 'unavailable', statusCode: 503 });
    } finally {
      bed.cluster.servers[0].resume();
      bed.cluster.servers[1].resume();
    }
  });

  it('exceptionFilter: undefined (from configuration, say) keeps the filter', async () => {
    const { server } = await boot({ exceptionFilter: undefined });
    const [, second] = await Promise.all([
      request(server).get('/invoices/12'),
      sleep(50).then(() => request(server).get('/invoices/12')),
    ]);
    expect(second.status).toBe(423);
  });

  it('with exceptionFilter: false, the error reaches Nest unanswered (the opt-out works)', async () => {
    const { server, log } = await boot({ exceptionFilter: false });
    const [, second] = await Promise.all([
      request(server).get('/invoices/11'),
      sleep(50).then(() => request(server).get('/invoices/11')),
    ]);
    expect(second.status).toBe(500);
    expect(log.lines.join('\n')).toMatch(/ResourceLockedError/);
  });
});

describe('LockExceptionFilter outside HTTP', () => {
  const filter = new LockExceptionFilter(
    undefined as never, // not reached outside HTTP
    undefined as never,
  );
  const host = (type: string) => ({ getType: () => type }) as unknown as ArgumentsHost;
  const error = new ResourceLockedError(['r'], 100, 1);

  it('throws the error on in GraphQL and other contexts (a returned value would be the result)', () => {
    expect(() => filter.catch(error, host('graphql'))).toThrow(error);
    expect(() => filter.catch(error, host('ws'))).toThrow(error);
  });

  it('gives it back as an observable error to microservices', async () => {
    const result = filter.catch(error, host('rpc'));
    await expect(lastValueFrom(result!)).rejects.toBe(error);
  });
});
