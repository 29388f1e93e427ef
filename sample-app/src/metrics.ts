/*
 * OpenTelemetry metrics for the sample app, behind an environment switch: METRICS=prometheus
 * registers an OpenTelemetry meter provider whose reader is the Prometheus exporter, served
 * at GET /metrics on the app's own port. It runs before the app creates anything, as an
 * OpenTelemetry set-up must: nestjs-redlock then reports its lock metrics through it.
 */
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The Prometheus endpoint's handler, and how to stop the meter provider. */
export interface PrometheusMetrics {
  handler(request: IncomingMessage, response: ServerResponse): void;
  shutdown(): Promise<void>;
}

/** Registers the meter provider with the Prometheus exporter (no server of its own). */
export function startPrometheusMetrics(): PrometheusMetrics {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  return {
    handler: (request, response) => exporter.getMetricsRequestHandler(request, response),
    shutdown: () => provider.shutdown(),
  };
}
