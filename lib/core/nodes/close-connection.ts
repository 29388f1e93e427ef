import type { Redis } from 'ioredis';

/** How long QUIT may wait for its reply before the connection is simply dropped. */
const QUIT_TIMEOUT_MS = 1_000;

/**
 * Closes a connection the engine owns: QUIT when it is ready (answered after every command
 * already sent, so no reply is lost, and the socket closes at once; a bare disconnect leaves
 * an ioredis timer until it does), a disconnect otherwise, or when QUIT gets no answer within
 * a second (a paused or partitioned node would hold `quit()` forever) (internal).
 */
export async function closeConnection(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const answered = await Promise.race([
    client.quit().then(
      () => true,
      () => false,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), QUIT_TIMEOUT_MS))),
  ]).finally(() => clearTimeout(timer));
  if (!answered) client.disconnect();
}
