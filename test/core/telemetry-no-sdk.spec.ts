import { describe, expect, it } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import { RedlockClosedError, ResourceLockedError } from '../../lib/index.js';
import { otelApi } from '../../lib/core/telemetry/index.js';
import { useRedisNodes } from '../support/test-bed.js';

/**
 * `@opentelemetry/api` installed, no SDK registered (the common case for a library's users):
 * the engine loads the API and uses its no-op spans and instruments; nothing throws, nothing
 * changes. (A project without the API at all is the packed-package test's consumers.)
 */
describe('telemetry with the API but no SDK', () => {
  const bed = useRedisNodes(3);

  // First in its file, so that this engine is the one that loads the API (each spec file has
  // its own module registry): an acquire waits for the load, and quit() may come meanwhile.
  it('rejects an acquire that waited for the API to load when quit() came meanwhile', async () => {
    const redlock = bed.make();
    const acquiring = redlock.acquire('early', 5_000);
    await redlock.quit();
    await expect(acquiring).rejects.toBeInstanceOf(RedlockClosedError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await bed.probe.values('early')).toEqual([null, null, null]);
  });

  it('acquires, refuses, extends and releases as without it', async () => {
    const [a, b] = [bed.make(), bed.make()];
    const lock = await a.acquire('order:1', 5_000);
    expect(otelApi()?.trace).toBe(trace);
    expect(trace.getTracer('any').startSpan('probe').isRecording()).toBe(false);
    await expect(b.acquire('order:1', 5_000, { retryCount: 0 })).rejects.toBeInstanceOf(
      ResourceLockedError,
    );
    await lock.extend(5_000);
    expect(await lock.release()).toBe(true);
    await b.usingSemaphore('exports:1', 2, 5_000, async () => undefined);
  });
});
