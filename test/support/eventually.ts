/**
 * Retries `check` (an assertion) until it passes or `timeoutMs` runs out, then throws its last
 * error. For state that the engine finishes writing after it has decided, such as the
 * stragglers of a quorum.
 */
export async function eventually(
  check: () => Promise<void> | void,
  timeoutMs = 2_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
