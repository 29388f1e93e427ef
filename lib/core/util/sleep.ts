/**
 * Resolves after `ms`, or rejects with the reason of the first of `signals` to abort. The
 * timer is cleared and the listeners removed either way.
 */
export function sleep(ms: number, signals: readonly (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = signals.find((signal) => signal?.aborted);
    if (aborted) {
      reject(aborted.reason);
      return;
    }
    const onAbort = (event: Event) => {
      cleanup();
      reject((event.target as AbortSignal).reason);
    };
    const cleanup = () => {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve();
    }, ms);
    for (const signal of signals) signal?.addEventListener('abort', onAbort, { once: true });
  });
}
