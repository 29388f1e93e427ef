// redlock@5.0.0-beta.2 ships types that NodeNext resolution cannot reach; the part we use.
declare module 'redlock' {
  import type { EventEmitter } from 'node:events';
  import type { Redis } from 'ioredis';

  export default class Redlock extends EventEmitter {
    constructor(
      clients: Iterable<Redis>,
      settings?: { retryCount?: number; retryDelay?: number; retryJitter?: number },
    );
    acquire(resources: string[], duration: number): Promise<{ release(): Promise<unknown> }>;
  }
}
