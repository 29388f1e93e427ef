import { describe, expect, it } from '@jest/globals';
import * as root from '../../lib/index.js';
import * as core from '../../lib/core/index.js';
import * as expressEntry from '../../lib/express/index.js';
import * as terminus from '../../lib/terminus/index.js';
import * as compat from '../../lib/compat/index.js';

/**
 * The public surface, value by value: what users call. A new export, or one gone, fails here
 * until this list changes with it, so that each is a decision. (Types are checked by the
 * TypeDoc run in CI, which fails on an exported name without a doc comment.)
 */
const ERRORS = [
  'CrossSlotError',
  'InvalidLockKeyError',
  'LockError',
  'LockLostError',
  'LockUpgradeError',
  'LockKindMismatchError',
  'MAX_SEMAPHORE_LIMIT',
  'NodeMayEvictError',
  'NodeMisconfiguredError',
  'NodeNotReadyError',
  'NodeRestartedError',
  'NodeTimeoutError',
  'QuorumUnavailableError',
  'RedlockClosedError',
  'RequestAbortedError',
  'ResourceLockedError',
  'StaleFencingTokenError',
];
const CORE = [
  ...ERRORS,
  'FencedRedisStore',
  'Lock',
  'Redlock',
  'RedlockWarning',
  'isLockError',
  'parseRedisUrl',
];
const EXPRESS = ['lockErrorResponse', 'lockMiddleware'];
const NEST = [
  'LockExceptionFilter',
  'LockInterceptor',
  'LockRoute',
  'RedlockModule',
  'RedlockService',
  'WithLock',
  'WithSemaphore',
];

const names = (entry: object) => Object.keys(entry).sort();

describe('the public exports', () => {
  it.each([
    ['nestjs-redlock', root, [...CORE, ...EXPRESS, ...NEST]],
    ['nestjs-redlock/core', core, CORE],
    ['nestjs-redlock/express', expressEntry, EXPRESS],
    ['nestjs-redlock/terminus', terminus, ['RedlockHealthIndicator']],
    // node-redlock v5's exports, and its default export.
    [
      'nestjs-redlock/compat',
      compat,
      ['ExecutionError', 'Lock', 'Redlock', 'ResourceLockedError', 'default'],
    ],
  ])('%s exports exactly what users call', (_entry, entry, expected) => {
    expect(names(entry)).toEqual([...expected].sort());
  });
});

describe('the package manifest', () => {
  it('gives every subpath export its types under typesVersions too (node10 resolution)', async () => {
    const { readFile } = await import('node:fs/promises');
    const manifest = JSON.parse(
      await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      exports: Record<string, string | { require?: { types?: string } }>;
      typesVersions: { '*': Record<string, string[]> };
    };
    const subpaths = Object.entries(manifest.exports).filter(
      ([path, target]) => path !== '.' && typeof target === 'object',
    );
    expect(subpaths.length).toBeGreaterThan(0);
    for (const [path, target] of subpaths) {
      const types = (target as { require?: { types?: string } }).require?.types;
      expect(manifest.typesVersions['*'][path.slice(2)]).toEqual([types]);
    }
  });
});
