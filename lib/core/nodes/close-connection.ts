import type { Redis } from 'ioredis';

/**
 * Closes a connection the engine owns: QUIT when it is ready (answered after every command
 * already sent, so no reply is lost, and the socket closes at once; a bare disconnect leaves
 * an ioredis timer until it does), a disconnect otherwise (internal).
 */
export async function closeConnection(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
}
