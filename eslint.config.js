// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', '.bench-build/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['lib/core/**/*.ts'],
    rules: {
      // The engine stays framework-free: dependencies point inward, to core.
      'no-restricted-imports': ['error', { patterns: ['@nestjs/*', 'express', 'fastify', 'rxjs'] }],
    },
  },
);
