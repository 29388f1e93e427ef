/** Whether a telemetry failure was reported in this process yet (it is reported once). */
let reported = false;

/**
 * Runs `call`, a call into OpenTelemetry (a span, an attribute, a metric). A failure there (a
 * span processor, exporter or meter of the app's that throws) must never change what a lock
 * does: it is caught, the call yields `undefined`, and the first one in the process is
 * reported as a warning (`REDLOCK_TELEMETRY_FAILED`) that names it.
 */
export function guarded<T>(call: () => T): T | undefined {
  try {
    return call();
  } catch (error) {
    if (!reported) {
      reported = true;
      process.emitWarning(
        `OpenTelemetry threw inside nestjs-redlock (${error instanceof Error ? error.message : String(error)}): ` +
          'locks are unaffected, but spans or metrics may be missing. Check the span processors, ' +
          'exporters and meter provider the app registers; further failures are not reported.',
        { type: 'RedlockWarning', code: 'REDLOCK_TELEMETRY_FAILED' },
      );
    }
    return undefined;
  }
}
