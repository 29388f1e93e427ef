/**
 * The part of `@opentelemetry/api` the engine uses, typed here so that no published type
 * mentions the optional peer (a project without it must still compile), and loaded on first use
 * by a dynamic import: absent, it is simply not used.
 */

/** Span and metric attributes. */
export type Attributes = Record<string, string | number | boolean | readonly string[]>;

/** A span, as the API's `Span`. */
export interface OtelSpan {
  isRecording(): boolean;
  setAttribute(key: string, value: string | number | boolean | readonly string[]): unknown;
  setAttributes(attributes: Attributes): unknown;
  addEvent(name: string, attributes?: Attributes): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** A tracer, as the API's `Tracer`. */
export interface OtelTracer {
  startSpan(name: string, options?: { attributes?: Attributes }): OtelSpan;
}

/** A histogram, as the API's `Histogram`. */
export interface OtelHistogram {
  record(value: number, attributes?: Attributes): void;
}

/** A counter, as the API's `Counter`. */
export interface OtelCounter {
  add(value: number, attributes?: Attributes): void;
}

/** What an observable instrument's callback is given. */
export interface OtelObservableResult {
  observe(value: number, attributes?: Attributes): void;
}

/** An observable gauge, as the API's `ObservableGauge`. */
export interface OtelObservableGauge {
  addCallback(callback: (result: OtelObservableResult) => void): void;
  removeCallback(callback: (result: OtelObservableResult) => void): void;
}

/** Options of an instrument. */
export interface InstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

/** A meter, as the API's `Meter`. */
export interface OtelMeter {
  createHistogram(name: string, options?: InstrumentOptions): OtelHistogram;
  createCounter(name: string, options?: InstrumentOptions): OtelCounter;
  createObservableGauge(name: string, options?: InstrumentOptions): OtelObservableGauge;
}

/** The API's entry points the engine uses. */
export interface OtelApi {
  trace: { getTracer(name: string, version?: string): OtelTracer };
  metrics: { getMeter(name: string, version?: string): OtelMeter };
  SpanStatusCode: { ERROR: number };
}

let api: OtelApi | null | undefined;
let loading: Promise<OtelApi | null> | undefined;

/**
 * Loads `@opentelemetry/api` once: resolves to it, or to `null` when it is not installed. The
 * engine starts this as it is created; until it settles, `otelApi()` is `undefined`.
 */
export function loadOtelApi(): Promise<OtelApi | null> {
  loading ??= import('@opentelemetry/api').then(
    (module) => (api = module as unknown as OtelApi),
    () => (api = null),
  );
  return loading;
}

/** `@opentelemetry/api` if loaded, `null` if absent, `undefined` while loading (or not asked). */
export function otelApi(): OtelApi | null | undefined {
  return api;
}
