import type { Redis } from 'ioredis';

/** How long QUIT may wait for its reply before the socket is simply closed. */
const QUIT_TIMEOUT_MS = 1_000;

/**
 * Closes a connection the engine owns: QUIT when it is ready (answered after every command
 * already sent, so no reply is lost, and the socket closes at once; a bare disconnect leaves
 * an ioredis timer until it does), a disconnect otherwise, or when QUIT gets no answer within
 * a second (a paused or partitioned node would hold `quit()` forever) (internal).
 */
export async function closeConnection(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)));
    await Promise.race([client.quit().catch(() => undefined), timedOut]);
    clearTimeout(timer);
  }
  if ((client.status as string) !== 'end') client.disconnect();
}
