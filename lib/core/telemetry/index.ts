/** OpenTelemetry spans and metrics, through the optional `@opentelemetry/api` (internal). */
export { loadOtelApi, otelApi } from './otel-api.js';
export {
  LockTelemetry,
  AcquireTrace,
  OperationTrace,
  extendOutcomeOf,
  INSTRUMENTATION_SCOPE,
  INSTRUMENTATION_VERSION,
  DURATION_BUCKETS_S,
} from './lock-telemetry.js';
export { countFencingRefusal } from './fencing-refusals.js';
export { guarded } from './guarded.js';
export { resourceNames, TELEMETRY_RESOURCES, type TelemetryResources } from './resource-names.js';
export { keyTemplates, TRACE_AS, type TraceLabels, type TracedOptions } from './trace-labels.js';
