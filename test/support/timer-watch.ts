import { createHook } from 'node:async_hooks';

/** Where a watched timer was set, by file: the package's code or ioredis. */
const WATCHED_CODE = /\/lib\/(core|nest|http|express|keys)\/|\/node_modules\/ioredis\//;

/**
 * Watches the timers that the package or ioredis set from now on, so that a test can check that
 * none is still pending after `quit()`. Counting every active timer of the process would also
 * count the test runner's own (jest's reporter sets some while a test runs).
 */
export function watchTimers(): { pending(): string[]; stop(): void } {
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
  return {
    /** The creation stacks of the watched timers that have neither fired nor been cleared. */
    pending: () => [...live.values()],
    stop: () => hook.disable(),
  };
}
