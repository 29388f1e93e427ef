// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      '.bench-build/',
      '.faults-build/',
      'sample-app/dist/',
      'docs/api/',
      'coverage/',
      'node_modules/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['lib/core/**/*.ts', 'lib/keys/**/*.ts', 'lib/http/**/*.ts', 'lib/express/**/*.ts'],
    rules: {
      // The engine, the key templates and the Express middleware stay free of Nest (and core of
      // Express too): dependencies point inward, to core.
      'no-restricted-imports': ['error', { patterns: ['@nestjs/*', 'express', 'fastify', 'rxjs'] }],
    },
  },
);
