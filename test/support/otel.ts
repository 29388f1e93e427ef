import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A metric reader whose only export is `collect()`, for tests. */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The OpenTelemetry SDK as an app registers it, with in-memory exporters to look into. */
export interface InstalledOtel {
  /** The spans ended so far. */
  spans(name?: string): ReadableSpan[];
  /** The data points of metric `name` now (cumulative), or [] if it has none. */
  points(name: string): Promise<DataPoint<unknown>[]>;
  /** Forgets the spans ended so far. */
  clearSpans(): void;
  /** Unregisters everything, back to the API's no-op globals. */
  uninstall(): Promise<void>;
}

/**
 * Registers a tracer provider (in-memory span exporter), a meter provider (a reader collected
 * on demand) and an AsyncLocalStorage context manager as the API's globals, as an app's
 * OpenTelemetry set-up does before it creates anything else.
 */
export function installOtel(): InstalledOtel {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  context.setGlobalContextManager(contextManager);
  return {
    spans: (name) =>
      exporter.getFinishedSpans().filter((span) => name === undefined || span.name === name),
    async points(name) {
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((candidate) => candidate.descriptor.name === name);
      return (metric?.dataPoints ?? []) as DataPoint<unknown>[];
    },
    clearSpans: () => exporter.reset(),
    async uninstall() {
      trace.disable();
      metrics.disable();
      context.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
