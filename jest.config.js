/**
 * Jest runs in ESM mode (NODE_OPTIONS=--experimental-vm-modules), because Nest 12 ships as
 * ES modules only. Tests run in band: they start real redis-server processes, and timing
 * assertions are kinder on a quiet machine.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^nestjs-redlock$': '<rootDir>/lib/index.ts',
    '^nestjs-redlock/core$': '<rootDir>/lib/core/index.ts',
    '^nestjs-redlock/express$': '<rootDir>/lib/express/index.ts',
    '^nestjs-redlock/terminus$': '<rootDir>/lib/terminus/index.ts',
    '^nestjs-redlock/compat$': '<rootDir>/lib/compat/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/support/fail-on-unhandled.ts'],
  testTimeout: 30_000,
  // A leaked handle must not hang CI; the specs check for leaked timers and sockets themselves.
  forceExit: true,
};
