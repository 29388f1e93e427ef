/**
 * Retries `check` (an assertion) until it passes or `timeoutMs` runs out, then throws its last
 * error, or resolves to its result. For state that the engine finishes writing after it has decided, such as the
 * stragglers of a quorum.
 */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 2_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
