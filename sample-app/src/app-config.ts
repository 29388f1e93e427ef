import { Injectable } from '@nestjs/common';

/**
 * The sample's configuration, from the environment: `REDLOCK_NODES` (comma-separated
 * redis:// URLs of the independent lock nodes), `STORAGE_URL` (where orders are kept; default:
 * database 1 of the first node), `PORT` (default 3000; 0 picks a free one).
 */
@Injectable()
export class AppConfig {
  readonly redisNodes: string[];
  readonly storageUrl: string;
  readonly port: number;

  constructor() {
    const nodes = process.env.REDLOCK_NODES;
    if (!nodes) {
      throw new Error('Set REDLOCK_NODES, e.g. redis://127.0.0.1:6379,redis://127.0.0.1:6380,...');
    }
    this.redisNodes = nodes.split(',').map((url) => url.trim());
    this.storageUrl = process.env.STORAGE_URL ?? `${this.redisNodes[0]}/1`;
    this.port = Number(process.env.PORT ?? 3000);
  }
}
