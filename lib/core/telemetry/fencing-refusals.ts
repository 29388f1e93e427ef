import { otelApi } from './otel-api.js';
import { guarded } from './guarded.js';
import { INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION } from './lock-telemetry.js';

/**
 * Counts a write or read the fencing store refused for a stale token (`redlock.fencing.refusals`),
 * when `@opentelemetry/api` is loaded. Refusals are rare: the counter is looked up each time,
 * so that an SDK registered after the first one still sees the next.
 */
export function countFencingRefusal(): void {
  const api = otelApi();
  if (!api) return;
  guarded(() =>
    api.metrics
      .getMeter(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION)
      .createCounter('redlock.fencing.refusals', {
        description: 'Reads and writes refused for a stale fencing token',
        unit: '{refusal}',
      })
      .add(1),
  );
}
