/**
 * What `promise` resolves to if it settles within `ms`, else `undefined`; a rejection also
 * gives `undefined`. For reads from nodes that may be down, paused or partitioned. Leaves no
 * timer behind.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
