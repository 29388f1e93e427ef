/**
 * Runs `check` and rethrows its `TypeError` / `RangeError` with `where` in front of the
 * message (e.g. `RedlockModule: ...`), keeping the class, so that a startup error names the
 * decorator or module it comes from.
 */
export function namingWhere<T>(where: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    const message = `${where}: ${(error as Error).message}`;
    throw error instanceof RangeError ? new RangeError(message) : new TypeError(message);
  }
}
