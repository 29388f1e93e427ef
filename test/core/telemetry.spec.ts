import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  FencedRedisStore,
  LockLostError,
  QuorumUnavailableError,
  Redlock,
  ResourceLockedError,
  StaleFencingTokenError,
} from '../../lib/index.js';
import {
  DURATION_BUCKETS_S,
  INSTRUMENTATION_VERSION,
  LockTelemetry,
} from '../../lib/core/telemetry/index.js';
import { installOtel, type InstalledOtel } from '../support/otel.js';
import { useRedisNodes } from '../support/test-bed.js';
import { readFileSync } from 'node:fs';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The points of a metric whose attributes include `attributes`. */
const where = (points: DataPoint<unknown>[], attributes: Record<string, unknown>) =>
  points.filter((point) =>
    Object.entries(attributes).every(([key, value]) => point.attributes[key] === value),
  );
const total = (points: DataPoint<unknown>[]) =>
  points.reduce((sum, point) => sum + (point.value as number), 0);
/**
 * A span that failed: its outcome, its error's code as `error.type`, and an ERROR status whose
 * message is that code, not the error's message (which names the resource).
 */
function expectFailed(span: ReadableSpan, outcome: string, code: string): void {
  expect(span.attributes).toMatchObject({ 'redlock.outcome': outcome, 'error.type': code });
  expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: code });
}
const histogramCount = (points: DataPoint<unknown>[]) =>
  points.reduce((sum, point) => sum + (point.value as Histogram).count, 0);

describe('OpenTelemetry spans and metrics (3 nodes, the SDK with in-memory exporters)', () => {
  let otel: InstalledOtel;
  // Installed before any Redlock is made, as an app's OpenTelemetry set-up runs first.
  beforeAll(() => {
    otel = installOtel();
  });
  afterAll(async () => {
    await otel.uninstall();
  });
  const bed = useRedisNodes(3);
  beforeEach(() => otel.clearSpans());

  const attributesOf = (span: ReadableSpan) => span.attributes;

  it('traces a contended lock: the waiter queued, waited, and both released; metrics count each outcome', async () => {
    const [holderEngine, waiterEngine, latecomer] = [bed.make(), bed.make(), bed.make()];
    const before = {
      acquired: total(
        where(await otel.points('redlock.lock.acquisitions'), { 'redlock.outcome': 'acquired' }),
      ),
      locked: total(
        where(await otel.points('redlock.lock.acquisitions'), { 'redlock.outcome': 'locked' }),
      ),
      waits: histogramCount(await otel.points('redlock.lock.wait.duration')),
      holds: histogramCount(await otel.points('redlock.lock.hold.duration')),
    };
    const holder = await holderEngine.acquire('order:42', 10_000);
    const waiting = waiterEngine.acquire('order:42', 10_000, {
      retryCount: -1,
      retryDelayMs: 5_000,
    });
    const refused = await latecomer
      .acquire('order:42', 10_000, { retryCount: 0 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ResourceLockedError);
    await sleep(150);
    await holder.release();
    const next = await waiting;
    await next.release();

    const acquires = otel.spans('redlock.acquire');
    expect(acquires).toHaveLength(3);
    const [first, locked, waited] = [
      acquires.find(
        (span) =>
          span.attributes['redlock.outcome'] === 'acquired' && !span.attributes['redlock.queued'],
      ),
      acquires.find((span) => span.attributes['redlock.outcome'] === 'locked'),
      acquires.find((span) => span.attributes['redlock.queued'] === true),
    ];
    // Never the raw resource name by default: it may carry a user's value.
    expect(attributesOf(first!)).toMatchObject({
      'redlock.resource.count': 1,
      'redlock.resource.names': ['order:*'],
      'redlock.lock.mode': 'write',
      'redlock.outcome': 'acquired',
      'redlock.attempts': 1,
      'redlock.queued': false,
      'redlock.fencing_token': false,
    });
    expect(JSON.stringify(acquires.map(attributesOf))).not.toContain('order:42');
    expect(attributesOf(locked!)).toMatchObject({
      'redlock.outcome': 'locked',
      'error.type': 'RESOURCE_LOCKED',
      'redlock.attempts': 1,
    });
    // Refused because held: an expected outcome, not an error status.
    expect(locked!.status.code).toBe(SpanStatusCode.UNSET);
    expect(attributesOf(waited!)).toMatchObject({ 'redlock.outcome': 'acquired' });
    expect(waited!.attributes['redlock.wait_ms']).toBeGreaterThan(100);
    expect(waited!.instrumentationScope).toMatchObject({
      name: 'nestjs-redlock',
      version: INSTRUMENTATION_VERSION,
    });

    const releases = otel.spans('redlock.release');
    expect(releases.map((span) => span.attributes['redlock.held'])).toEqual([true, true]);

    const acquisitions = await otel.points('redlock.lock.acquisitions');
    expect(total(where(acquisitions, { 'redlock.outcome': 'acquired' })) - before.acquired).toBe(2);
    expect(total(where(acquisitions, { 'redlock.outcome': 'locked' })) - before.locked).toBe(1);
    const waits = await otel.points('redlock.lock.wait.duration');
    expect(histogramCount(waits) - before.waits).toBe(3);
    expect((waits[0].value as Histogram).buckets.boundaries).toEqual(DURATION_BUCKETS_S);
    const holds = await otel.points('redlock.lock.hold.duration');
    expect(histogramCount(holds) - before.holds).toBe(2);
    // The holder held for about 150 ms: its hold is in a bucket above 0.1 s.
    expect(Math.max(...holds.map((point) => (point.value as Histogram).max ?? 0))).toBeGreaterThan(
      0.1,
    );
  });

  it("nests the acquire span under the caller's active span (an incoming request's, with HTTP instrumentation)", async () => {
    const redlock = bed.make();
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('POST /orders/:id/pay', async (request) => {
      const lock = await redlock.acquire('order:7', 5_000);
      await lock.release();
      request.end();
    });
    const [request] = otel.spans('POST /orders/:id/pay');
    const [acquire] = otel.spans('redlock.acquire');
    const [release] = otel.spans('redlock.release');
    expect(acquire.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(release.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(acquire.spanContext().traceId).toBe(request.spanContext().traceId);
  });

  it('adds an event per failed node, reports reachable nodes, and an error status when no quorum answers', async () => {
    // One node that refuses connections: a quorum of the other two still grants.
    const nodes = [bed.cluster.urls[0], bed.cluster.urls[1], 'redis://127.0.0.1:1'];
    const redlock = new Redlock(nodes, { retryCount: 0 });
    const twoDown = new Redlock(
      [bed.cluster.urls[0], 'redis://127.0.0.1:1', 'redis://127.0.0.1:2'],
      {
        retryCount: 0,
      },
    );
    try {
      const lock = await redlock.acquire('invoice:1', 5_000);
      await lock.release();
      const [acquire] = otel.spans('redlock.acquire');
      const events = acquire.events.filter((event) => event.name === 'redlock.node_error');
      expect(events.map((event) => event.attributes)).toContainEqual(
        expect.objectContaining({
          'redlock.node': '127.0.0.1:1',
          'redlock.vote': 'failed',
          'error.type': 'NODE_NOT_READY',
        }),
      );
      const reachable = (await otel.points('redlock.nodes.reachable')).map((point) => point.value);
      expect(reachable).toContain(2);
      expect(reachable).toContain(1);

      otel.clearSpans();
      const error = await twoDown.acquire('invoice:2', 5_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QuorumUnavailableError);
      expectFailed(otel.spans('redlock.acquire')[0], 'unavailable', 'QUORUM_UNAVAILABLE');
    } finally {
      await Promise.all([redlock.quit(), twoDown.quit()]);
    }
  });

  it("stops observing an instance's nodes when it quits", async () => {
    const added = new Set<unknown>();
    const api = {
      trace,
      SpanStatusCode,
      metrics: {
        getMeter: (name: string, version?: string) => {
          const meter = metrics.getMeter(name, version);
          return Object.assign(Object.create(meter) as typeof meter, {
            createObservableGauge: (gaugeName: string) => ({
              ...meter.createObservableGauge(gaugeName),
              addCallback: (callback: unknown) => added.add(callback),
              removeCallback: (callback: unknown) => added.delete(callback),
            }),
          });
        },
      },
    };
    const telemetry = new LockTelemetry(api as never, 'prefix', () => 3);
    expect(added.size).toBe(1);
    telemetry.close();
    expect(added.size).toBe(0);
  });

  it('counts a lost lock and traces the failed extension', async () => {
    const redlock = bed.make();
    const before = total(await otel.points('redlock.lock.lost'));
    const lock = await redlock.acquire('report:1', 200);
    await sleep(300);
    await expect(lock.extend(1_000)).rejects.toBeInstanceOf(LockLostError);
    expect(total(await otel.points('redlock.lock.lost')) - before).toBe(1);
    expectFailed(otel.spans('redlock.extend')[0], 'lost', 'LOCK_LOST');
  });

  it("counts the fencing store's refusals of a stale token", async () => {
    const redlock = bed.make({ fencing: true });
    const store = new FencedRedisStore(bed.probe.at(0));
    const before = total(await otel.points('redlock.fencing.refusals'));
    const old = await redlock.acquire('account:1', 5_000);
    await old.release();
    const current = await redlock.acquire('account:1', 5_000);
    await store.set('balance:1', '100', current.fencingToken!);
    await expect(store.set('balance:1', '50', old.fencingToken!)).rejects.toBeInstanceOf(
      StaleFencingTokenError,
    );
    await current.release();
    expect(total(await otel.points('redlock.fencing.refusals')) - before).toBe(1);
    const [fenced] = otel.spans('redlock.acquire');
    expect(fenced.attributes['redlock.fencing_token']).toBe(true);
  });

  it('reports queued only for an acquisition that waited in line', async () => {
    const redlock = bed.make({ fencing: true });
    await (await redlock.acquire(['pair:1', 'pair:2'], 5_000)).release();
    await (await redlock.acquire('fenced:1', 5_000)).release();
    await (await redlock.acquireSemaphore('exports:1', 2, 5_000)).release();
    expect(otel.spans('redlock.acquire').map((span) => span.attributes['redlock.queued'])).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('shows resource names raw or hashed only when asked, and nothing with telemetry off', async () => {
    const raw = bed.make({ telemetryResources: 'raw' });
    const hashed = bed.make({ telemetryResources: 'hash' });
    const off = bed.make({ telemetry: false });
    await (await raw.acquire(['user:ada@example.com', 'cart'], 5_000)).release();
    await (await hashed.acquire('user:ada@example.com', 5_000)).release();
    const [rawSpan, hashSpan] = otel.spans('redlock.acquire');
    expect(rawSpan.attributes['redlock.resource.names']).toEqual(['user:ada@example.com', 'cart']);
    expect(hashSpan.attributes['redlock.resource.names']).toEqual([
      expect.stringMatching(/^[0-9a-f]{16}$/),
    ]);
    otel.clearSpans();
    await (await off.acquire('quiet', 5_000)).release();
    expect(otel.spans()).toEqual([]);
    expect(() => bed.make({ telemetryResources: 'plain' as never })).toThrow(/telemetryResources/);
  });

  it('keeps the scope version equal to the package version', () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    expect(INSTRUMENTATION_VERSION).toBe(version);
  });
});
