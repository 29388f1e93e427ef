import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisCluster } from '../support/redis-nodes.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** One throwaway project that installs the packed tarball. */
interface Consumer {
  name: string;
  /** `package.json` fields besides the dependencies. */
  type: 'commonjs' | 'module';
  nest: string;
  compilerOptions: Record<string, unknown>;
}

/**
 * The packed package, as npm publishes it: its contents, and two throwaway projects that
 * install the tarball from disk and use it: CommonJS with Nest 11 (the `require` build) and ES
 * modules with Nest 12, compiled with `moduleResolution: nodenext` (the `import` build). Each
 * boots a Nest app with the module, `@WithLock`, `LockInterceptor`, `@LockRoute` and the
 * terminus health indicator (terminus 11 and 12) against real Redis nodes. The projects install their other dependencies from the registry (npm's cache
 * makes repeated runs fast).
 */
describe('the packed package', () => {
  let dir: string;
  let tarball: string;
  let cluster: RedisCluster;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redlock-pack-'));
    // prepack builds dist/ first, so the tarball holds what the sources say.
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: root,
    });
    const packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[];
    tarball = join(dir, packed[0].filename);
    cluster = await RedisCluster.start(3);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the compiled code with source maps, its types, the README with the docs it links to, and the LICENSE, nothing else', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n');
    for (const expected of [
      'package/package.json',
      'package/README.md',
      'package/LICENSE',
      'package/dist/esm/index.js',
      'package/dist/esm/index.d.ts',
      'package/dist/esm/core/index.js',
      'package/dist/esm/express/index.js',
      'package/dist/esm/compat/index.js',
      'package/dist/cjs/compat/index.d.ts',
      'package/dist/cjs/index.js',
      'package/dist/cjs/index.d.ts',
      'package/dist/cjs/package.json',
      'package/dist/esm/index.js.map',
      'package/docs/correctness.md',
      'package/docs/charts/sequential-3.svg',
    ]) {
      expect(files).toContain(expected);
    }
    const unexpected = files.filter(
      (file) =>
        !/^package\/(package\.json|README\.md|LICENSE|dist\/(esm|cjs)\/.+\.(js|d\.ts|json|js\.map)|docs\/[a-z-]+\.md|docs\/charts\/[a-z0-9-]+\.svg)$/.test(
          file,
        ),
    );
    expect(unexpected).toEqual([]);
    expect(
      files.some((file) => /^package\/(test|bench|sample-app|examples)\/|\.spec\./.test(file)),
    ).toBe(false);
    // The README's relative links point into the package: every linked doc is in it.
    const readme = readFileSync('README.md', 'utf8');
    for (const [, target] of readme.matchAll(/\]\((docs\/[^)#]+)/g)) {
      expect(files).toContain(`package/${target}`);
    }
    // A source map carries its sources: a stack trace points into the TypeScript.
    const { stdout: map } = await run('tar', [
      '-xzOf',
      tarball,
      'package/dist/esm/core/redlock.js.map',
    ]);
    expect(JSON.parse(map).sourcesContent?.[0]).toContain('export class Redlock');
  });

  const consumers: Consumer[] = [
    {
      name: 'a CommonJS project with Nest 11',
      type: 'commonjs',
      nest: '^11.0.0',
      compilerOptions: { module: 'node16', moduleResolution: 'node16' },
    },
    {
      name: 'an ES module project with Nest 12, compiled with moduleResolution nodenext',
      type: 'module',
      nest: '^12.0.0',
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' },
    },
  ];

  it.each(consumers)(
    'installs into $name, compiles, and boots a locked app',
    async ({ name, type, nest, compilerOptions }) => {
      const project = join(dir, type);
      mkdirSync(join(project, 'src'), { recursive: true });
      writeFileSync(
        join(project, 'package.json'),
        JSON.stringify({
          name: `consumer-${type}`,
          private: true,
          type,
          dependencies: {
            'nestjs-redlock': `file:${tarball}`,
            '@nestjs/common': nest,
            '@nestjs/core': nest,
            '@nestjs/platform-express': nest,
            '@nestjs/terminus': nest,
            ioredis: '^5.0.0',
            'reflect-metadata': '^0.2.0',
            rxjs: '^7.8.0',
          },
        }),
      );
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            ...compilerOptions,
            target: 'es2022',
            strict: true,
            experimentalDecorators: true,
            emitDecoratorMetadata: true,
            skipLibCheck: false,
            outDir: 'out',
            typeRoots: [join(root, 'node_modules/@types')],
            types: ['node'],
          },
          include: ['src'],
        }),
      );
      copyFileSync(new URL('./consumer/main.ts', import.meta.url), join(project, 'src/main.ts'));

      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
        cwd: project,
      });
      const installed = JSON.parse(
        readFileSync(join(project, 'node_modules/@nestjs/core/package.json'), 'utf8'),
      ) as { version: string };
      expect(installed.version.split('.')[0]).toBe(nest.slice(1, 3).replace('.', ''));

      // Type-checks against the published .d.ts files (skipLibCheck off), then runs.
      await run(process.execPath, [tsc, '-p', project]);
      const { stdout } = await run(process.execPath, [join(project, 'out/main.js')], {
        cwd: project,
        env: { ...process.env, NODE_OPTIONS: '', REDLOCK_NODES: cluster.urls.join(',') },
      });
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
        statuses: number[];
        tokens: string[];
        released: boolean;
        compat: [boolean, boolean];
        middleware: string;
        health: unknown[];
      };
      expect({ name, ...result }).toEqual({
        name,
        statuses: [201, 423],
        tokens: expect.arrayContaining([expect.stringMatching(/^\d+$/)]),
        released: true,
        compat: [true, true],
        middleware: 'function',
        health: [200, 'up', 3],
      });
      // Each project's second payment gets a larger fencing token than its first.
      const [first, second] = result.tokens.map(BigInt);
      expect(second).toBeGreaterThan(first);
    },
    300_000,
  );
});
