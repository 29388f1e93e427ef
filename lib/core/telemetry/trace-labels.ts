/**
 * @internal What a caller inside the package tells the engine's telemetry about an acquisition:
 * the method it locks (`@WithLock` on `OrdersService.pay`), and the key templates its
 * resources come from (`order:<id>`, which carry no user value).
 */
export interface TraceLabels {
  /** `Class.method`: names the acquire span. */
  readonly operation: string;
  /** The key templates, when the keys come from templates. */
  readonly templates?: readonly string[];
}

/** @internal The key under which an acquire's options carry {@link TraceLabels}. */
export const TRACE_AS: unique symbol = Symbol('nestjs-redlock.traceAs');

/**
 * @internal The key templates among `keys` as a lock's entry points take them (a template, a
 * list of them, or a function, which has none).
 */
export function keyTemplates(keys: unknown): readonly string[] | undefined {
  if (typeof keys === 'string') return [keys];
  if (Array.isArray(keys) && keys.every((key) => typeof key === 'string')) return keys;
  return undefined;
}

/** @internal Options that may carry {@link TraceLabels}. */
export interface TracedOptions {
  readonly [TRACE_AS]?: TraceLabels;
}
