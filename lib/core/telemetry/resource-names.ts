import { createHash } from 'node:crypto';

/**
 * How lock resources appear in traces (`RedlockOptions.telemetryResources`). Resource names
 * often carry user values (an order id, an email), which may be personal data:
 * - `'prefix'`: up to the first `:`, the rest replaced by `*` (`order:42` → `order:*`; a name
 *   without `:` → `*`). Under `@WithLock`, `@WithSemaphore`, `@LockRoute` and
 *   `lockMiddleware` given templates, the key templates (`order:<id>`).
 * - `'hash'`: the first 16 hex digits of the name's SHA-256, to tell resources apart without
 *   showing them (a short or guessable value can still be found by trying candidates).
 * - `'raw'`: the names as they are.
 */
export type TelemetryResources = 'prefix' | 'hash' | 'raw';

/** Every value of {@link TelemetryResources}. */
export const TELEMETRY_RESOURCES: readonly TelemetryResources[] = ['prefix', 'hash', 'raw'];

/** `resources` as `policy` shows them; `templates`, when known, stand in for `'prefix'`. */
export function resourceNames(
  resources: readonly string[],
  policy: TelemetryResources,
  templates?: readonly string[],
): string[] {
  switch (policy) {
    case 'raw':
      return [...resources];
    case 'hash':
      return resources.map((resource) =>
        createHash('sha256').update(resource).digest('hex').slice(0, 16),
      );
    case 'prefix':
      if (templates) return [...templates];
      return resources.map((resource) => {
        const colon = resource.indexOf(':');
        return colon < 0 ? '*' : `${resource.slice(0, colon + 1)}*`;
      });
  }
}
