import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { NodeHealth } from '../core/redlock-health.js';
import { RedlockService } from '../nest/redlock.service.js';

/** The details of the indicator's result, beside its `status`. */
export interface RedlockHealthDetails extends Record<string, unknown> {
  /** How many nodes must be up. */
  quorum: number;
  /** How many nodes are up. */
  up: number;
  /** Each node: `{ node, up, latencyMs?, error?, problem?, warning? }`. */
  nodes: NodeHealth[];
}

/**
 * A `@nestjs/terminus` health indicator for the lock's Redis nodes: `up` while a quorum of
 * them can take locks (within `nodeTimeoutMs`, each runs the engine's scripts, is a primary
 * and counts), `down` otherwise, with every node's state, cause and fix in the details. Add it to the providers of the module that has `TerminusModule` and sees
 * `RedlockModule`.
 *
 * @example
 * @Get('health')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.redlock.isHealthy('redlock')]);
 * }
 */
@Injectable()
export class RedlockHealthIndicator {
  constructor(
    private readonly redlock: RedlockService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /**
   * Checks the nodes. The result's details: `quorum`, `up` (how many nodes are up) and `nodes`
   * (`{ node, up, latencyMs?, error?, problem?, warning? }` each).
   * @param key the name of the indicator in the health report.
   */
  async isHealthy<const Key extends string = 'redlock'>(key: Key = 'redlock' as Key) {
    const indicator = this.indicators.check(key);
    const { quorumReachable, quorum, up, nodes } = await this.redlock.redlock.health();
    const details: RedlockHealthDetails = { quorum, up, nodes: nodes.map((node) => ({ ...node })) };
    return quorumReachable ? indicator.up(details) : indicator.down(details);
  }
}
