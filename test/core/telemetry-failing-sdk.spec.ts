import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { metrics, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { useRedisNodes } from '../support/test-bed.js';

/** A span processor of an app's that throws when an acquire span starts or ends. */
const throwingProcessor: SpanProcessor = {
  onStart(span) {
    if ((span as unknown as ReadableSpan).name === 'redlock.release')
      throw new Error('onStart boom');
  },
  onEnd(span) {
    if (span.name.startsWith('redlock.acquire') || span.name === 'redlock.extend') {
      throw new Error('onEnd boom');
    }
  },
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/** A meter provider of an app's that cannot make an observable gauge. */
const throwingMeterProvider = {
  getMeter: () => {
    const meter = metrics.getMeter('noop');
    return Object.assign(Object.create(meter) as typeof meter, {
      createObservableGauge: () => {
        throw new Error('gauge unsupported');
      },
    });
  },
};

/**
 * An app whose OpenTelemetry SDK throws (a span processor, a meter provider): the locks behave
 * exactly as without telemetry, and the failure is reported once as a process warning.
 */
describe("telemetry when the app's SDK throws", () => {
  const bed = useRedisNodes(3);
  const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  beforeAll(() => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [throwingProcessor] }));
  });
  afterAll(() => {
    emitWarning.mockRestore();
    trace.disable();
    metrics.disable();
  });

  it('acquires, extends and releases; nothing is left on the nodes', async () => {
    const redlock = bed.make();
    const result = await redlock.using('order:1', 10_000, async (_signal, lock) => {
      await lock.extend(10_000);
      return 'ran';
    });
    expect(result).toBe('ran');
    const lock = await redlock.acquire('order:2', 10_000);
    expect(await lock.release()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await bed.probe.values('order:1')).toEqual([null, null, null]);
    expect(await bed.probe.values('order:2')).toEqual([null, null, null]);
    const reported = emitWarning.mock.calls.filter(
      ([, options]) => (options as { code?: string })?.code === 'REDLOCK_TELEMETRY_FAILED',
    );
    expect(reported).toHaveLength(1);
    expect(String(reported[0][0])).toMatch(/boom.*locks are unaffected/);
  });

  it('works without telemetry when the meter provider throws at set-up', async () => {
    metrics.setGlobalMeterProvider(throwingMeterProvider as never);
    const redlock = bed.make();
    const lock = await redlock.acquire('order:3', 10_000);
    expect(await lock.release()).toBe(true);
    await redlock.quit();
  });
});
