import { createHook } from 'node:async_hooks';

/** Where a watched timer was set, by file: the package's code or ioredis. */
const WATCHED_CODE = /\/lib\/(core|nest|http|express|keys)\/|\/node_modules\/ioredis\//;

/**
 * Watches the timers that the package or ioredis set from now on, so that a test can check that
 * none is still pending after `quit()`. Counting every active timer of the process would also
 * count the test runner's own (jest's reporter sets some while a test runs).
 */
export function watchTimers(): {
  pending(): string[];
  settled(): Promise<string[]>;
  stop(): void;
} {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const stack = new Error('timer set').stack ?? '';
      if (WATCHED_CODE.test(stack)) live.set(id, stack);
    },
    destroy(id) {
      live.delete(id);
    },
  });
  hook.enable();
  const pending = () => [...live.values()];
  return {
    /** The creation stacks of the watched timers that have neither fired nor been cleared. */
    pending,
    /**
     * {@link pending} after a 20 ms pause and the destroy events queued by then: Node reports a
     * timer destroyed in a later check phase, not when it fires or is cleared, so a timer that
     * fired in the same loop turn as the pause's own would still look pending.
     */
    settled: async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      return pending();
    },
    stop: () => hook.disable(),
  };
}
