import type { LoggerService } from '@nestjs/common';
import { describeWithAdvice } from '../core/nodes/index.js';
import type { Redlock } from '../core/redlock.js';

/**
 * Reports what the engine tells, where people look: lost locks and nodes going down at warn
 * (once per outage, with the cause and its fix), nodes coming back at log, set-up warnings at
 * warn (a node that may evict keys at error), each node error at debug. Attached as soon as
 * the engine exists, so that no early warning goes elsewhere.
 */
export function logEngineEvents(redlock: Redlock, logger: LoggerService, nodeCount: number): void {
  if (nodeCount % 2 === 0) {
    logger.warn(
      `RedlockModule: ${nodeCount} nodes give no more fault tolerance than ${nodeCount - 1}; ` +
        'use an odd number of independent nodes.',
    );
  }
  redlock.on('lost', (lock, error) =>
    logger.warn(`${error.message} (${lock.resources.join(', ')})`),
  );
  redlock.on('nodeError', (error, node) => logger.debug?.(`${node}: ${error.message}`));
  // A refused password must not hide at debug level while the app answers 423.
  redlock.on('nodeDown', (node, error) =>
    logger.warn(`Redis node ${node} is down: ${describeWithAdvice(error)}`),
  );
  redlock.on('nodeUp', (node) => logger.log(`Redis node ${node} is up again`));
  redlock.on('warning', (warning) =>
    warning.code === 'NODE_MAY_EVICT'
      ? logger.error(warning.message)
      : logger.warn(warning.message),
  );
}
