/*
 * The HTTP-abort scenarios of the fault suite: two service instances (each its own Redlock
 * over the same real nodes) serve a read-sleep-write route on one counter under one lock key,
 * while clients hang up at random points: while waiting for the lock, inside the handler, or
 * never. The handlers ignore their signal on purpose (the worst case: they run on after the
 * hang-up). The checker counts the handlers inside the critical section at once, and compares
 * the counter with the writes the handlers made: at most 1 inside, and no lost update.
 */
import 'reflect-metadata';
import { Controller, Module, Post, UseInterceptors, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import express from 'express';
import { Redis } from 'ioredis';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LockInterceptor, LockRoute, RedlockModule } from '../../lib/index.js';
import { Redlock } from '../../lib/core/index.js';
import { lockMiddleware } from '../../lib/express/index.js';
import { RedisCluster, RedisServer } from '../support/redis-nodes.js';

/** Which HTTP layer holds the lock: ours, or a calibration that releases on `close`. */
export type HttpLayer = 'express' | 'nest' | 'calibration: release on close';

/** One HTTP-abort scenario. */
export interface HttpAbortScenario {
  readonly name: string;
  readonly layer: HttpLayer;
  readonly durationMs: number;
  /** `none`: the checker must find nothing; `violation`: it must (calibration). */
  readonly expect: 'none' | 'violation';
}

/** What a run of an HTTP-abort scenario found. */
export interface HttpAbortOutcome {
  readonly requests: number;
  readonly hangUps: number;
  readonly completed: number;
  /** Writes the handlers made, whether or not their client was still there. */
  readonly writes: number;
  readonly finalValue: number;
  /** The most handlers ever inside the critical section at once. */
  readonly maxInside: number;
  readonly violations: readonly string[];
}

const NODES = 3;
const CLIENTS = 8;
const TTL_MS = 1_000;
const KEY = 'http:counter';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low: number, high: number) => low + Math.floor(Math.random() * (high - low));

/** The critical section: read, sleep, write; every instance's handlers report here. */
class Section {
  inside = 0;
  maxInside = 0;
  writes = 0;

  constructor(private readonly storage: Redis) {}

  async run(): Promise<void> {
    this.inside++;
    this.maxInside = Math.max(this.maxInside, this.inside);
    try {
      const value = Number((await this.storage.get(KEY)) ?? 0);
      await sleep(between(5, 40));
      await this.storage.set(KEY, String(value + 1));
      this.writes++;
    } finally {
      this.inside--;
    }
  }
}

/** One service instance: a server on a free port, and how to close it. */
interface Instance {
  readonly port: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

async function expressInstance(nodes: string[], section: Section, layer: HttpLayer) {
  const redlock = new Redlock(nodes, { retryCount: -1, retryDelayMs: 20, retryJitterMs: 20 });
  const app = express();
  const lock =
    layer === 'express'
      ? lockMiddleware({ redlock, key: KEY, ttlMs: TTL_MS })
      : // What the package did before: release when the response closes.
        (req: express.Request, res: express.Response, next: express.NextFunction) => {
          redlock
            .using(KEY, TTL_MS, () => {
              next();
              return new Promise<void>((resolve) => {
                if (res.destroyed || res.writableEnded) resolve();
                else res.once('close', resolve);
              });
            })
            .catch(() => res.destroy());
          void req;
        };
  app.post('/count', lock, async (_req, res) => {
    await section.run();
    res.json({ ok: true });
  });
  const server = app.listen(0, '127.0.0.1');
  const port = await listen(server);
  return {
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await redlock.quit();
    },
  } satisfies Instance;
}

async function nestInstance(nodes: string[], section: Section): Promise<Instance> {
  @Controller()
  @UseInterceptors(LockInterceptor)
  class CountController {
    @Post('count')
    @LockRoute(KEY, { ttlMs: TTL_MS })
    async count() {
      await section.run();
      return { ok: true };
    }
  }
  @Module({
    imports: [
      RedlockModule.forRoot({
        nodes: nodes,
        logger: false,
        retryCount: -1,
        retryDelayMs: 20,
        retryJitterMs: 20,
      }),
    ],
    controllers: [CountController],
  })
  class CountModule {}
  const app: INestApplication = await NestFactory.create(CountModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await app.close();
    },
  };
}

/** No request waits longer than this for its answer: every loop is bounded in time. */
const REQUEST_LIMIT_MS = 5_000;

/** Sends one POST; hangs up after `hangUpAfterMs` unless the answer came first. */
function post(port: number, hangUpAfterMs = REQUEST_LIMIT_MS): Promise<'completed' | 'hung up'> {
  return new Promise((resolve) => {
    const sent = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/count' });
    const timer = setTimeout(() => sent.destroy(), hangUpAfterMs);
    sent.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve('completed'));
    });
    sent.on('error', () => resolve('hung up'));
    sent.on('close', () => {
      clearTimeout(timer);
      resolve('hung up'); // after 'end', the first answer stands
    });
    sent.end();
  });
}

/** Runs one scenario on fresh nodes and a fresh storage node. */
export async function runHttpAbortScenario(scenario: HttpAbortScenario): Promise<HttpAbortOutcome> {
  const cluster = await RedisCluster.start(NODES);
  const storageServer = await RedisServer.start();
  const storage = new Redis(storageServer.url);
  const section = new Section(storage);
  const instances: Instance[] = [];
  let requests = 0;
  let hangUps = 0;
  let completed = 0;
  try {
    for (let index = 0; index < 2; index++) {
      instances.push(
        scenario.layer === 'nest'
          ? await nestInstance(cluster.urls, section)
          : await expressInstance(cluster.urls, section, scenario.layer),
      );
    }
    const deadline = performance.now() + scenario.durationMs;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        while (performance.now() < deadline) {
          requests++;
          // Half the clients hang up at a random point: waiting, inside, or after the answer.
          const hangUpAfterMs = Math.random() < 0.5 ? between(1, 60) : undefined;
          const port = instances[client % instances.length].port;
          const outcome = await post(port, hangUpAfterMs);
          if (outcome === 'completed') completed++;
          else hangUps++;
        }
      }),
    );
    // Handlers whose client hung up may still run: wait for the section to empty.
    for (let waited = 0; section.inside > 0 && waited < 5 * TTL_MS; waited += 20) await sleep(20);
    const finalValue = Number((await storage.get(KEY)) ?? 0);
    const violations: string[] = [];
    if (section.maxInside > 1) {
      violations.push(`${section.maxInside} handlers were inside the critical section at once`);
    }
    if (finalValue !== section.writes) {
      violations.push(
        `lost update: ${section.writes} increments were written, but the counter ends at ${finalValue}`,
      );
    }
    return {
      requests,
      hangUps,
      completed,
      writes: section.writes,
      finalValue,
      maxInside: section.maxInside,
      violations,
    };
  } finally {
    await Promise.allSettled(instances.map((instance) => instance.close()));
    storage.disconnect();
    await storageServer.stop();
    await cluster.stop();
  }
}

/** Prints a scenario's outcome; answers whether it met its expectation. */
export function summarizeHttpAbort(
  scenario: HttpAbortScenario,
  outcome: HttpAbortOutcome,
): boolean {
  const passed =
    scenario.expect === 'none' ? outcome.violations.length === 0 : outcome.violations.length > 0;
  console.log(
    `\n${passed ? 'PASS' : 'FAIL'}  ${scenario.name} (${scenario.durationMs / 1000} s, 2 instances, ${CLIENTS} clients)`,
  );
  console.log(
    `  requests ${outcome.requests}, client hang-ups ${outcome.hangUps}, answered ${outcome.completed}, handler writes ${outcome.writes}, counter ${outcome.finalValue}, most handlers inside at once ${outcome.maxInside}`,
  );
  console.log(
    `  violations: ${outcome.violations.length === 0 ? 'none' : outcome.violations.join('; ')}${scenario.expect === 'violation' ? ' (expected: this run calibrates the checker)' : ''}`,
  );
  return passed;
}
