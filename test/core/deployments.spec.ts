import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import {
  parseRedisUrl,
  QuorumUnavailableError,
  Redlock,
  type NodeHealth,
  type RedlockOptions,
  type RedlockWarning,
} from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { freePort, RedisServer } from '../support/redis-nodes.js';
import { createNoScriptsUser } from '../support/acl-users.js';

/**
 * The Redis set-ups people run, each on a real redis-server configured so: a password, ACL
 * users, TLS with a certificate made by openssl here, a replica, renamed commands, a database
 * index out of range. For each, what goes wrong is named with its cause and a fix that fits
 * (never "raise nodeTimeoutMs" for a refused password), in the errors, the health check and
 * the `nodeDown` event; secrets stay out of every message; and what can work, works.
 */
describe('real Redis deployments: causes, advice, and what still works', () => {
  const servers: RedisServer[] = [];
  const redlocks: Redlock[] = [];
  const start = async (...args: string[]) => {
    const server = await RedisServer.start({ args });
    servers.push(server);
    return server;
  };
  const make = (nodes: ConstructorParameters<typeof Redlock>[0], options: RedlockOptions = {}) => {
    const redlock = new Redlock(nodes, { retryCount: 0, nodeTimeoutMs: 300, ...options });
    // Warnings are asserted where they matter; elsewhere they must not reach the console.
    redlock.on('warning', () => undefined);
    redlocks.push(redlock);
    return redlock;
  };
  /** The acquire's error, once the first connection attempts have failed. */
  const acquireError = async (redlock: Redlock): Promise<QuorumUnavailableError> => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const error = await redlock.acquire('deploy:k', 1_000).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    return error as QuorumUnavailableError;
  };
  const health = async (redlock: Redlock): Promise<NodeHealth> => (await redlock.health()).nodes[0];

  afterEach(async () => {
    await Promise.all(redlocks.splice(0).map((redlock) => redlock.quit()));
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  describe('a password (requirepass)', () => {
    const password = 'p@ss/w0rd#1';
    let server: RedisServer;
    beforeAll(async () => {
      server = await start('--requirepass', password);
    });

    it('no password: NOAUTH, with advice about credentials, not timeouts', async () => {
      const redlock = make([server.url]);
      const error = await acquireError(redlock);
      expect(error.message).toMatch(/NOAUTH/);
      expect(error.message).toMatch(/Check the username and password/);
      expect(error.message).not.toMatch(/nodeTimeoutMs/);
      expect(await health(redlock)).toMatchObject({ up: false, problem: 'auth' });
    });

    it('a wrong password: WRONGPASS, and neither password shows in any output', async () => {
      const wrong = 's3cr/et@x';
      const redlock = make([`redis://:${encodeURIComponent(wrong)}@127.0.0.1:${server.port}`]);
      const emitted: Error[] = [];
      redlock.on('nodeError', (error) => emitted.push(error));
      const error = await acquireError(redlock);
      expect(error.message).toMatch(/WRONGPASS/);
      const output = [
        error.message,
        inspect(error, { depth: 5 }),
        ...emitted.map((nodeError) => inspect(nodeError, { depth: 5 })),
        JSON.stringify(await redlock.health()),
      ].join('\n');
      expect(emitted.some((nodeError) => /WRONGPASS/.test(nodeError.message))).toBe(true);
      expect(output).not.toContain(wrong);
      expect(output).not.toContain('s3cr');
      expect(output).not.toContain(password);
    });

    it('a password with unencoded / and @ in a URL never appears in the error', () => {
      for (const url of [
        `redis://:${password}@127.0.0.1:${server.port}`,
        `redis://user:${password}@127.0.0.1:${server.port}/0`,
        `redis:user:${password}@127.0.0.1:${server.port}`,
        `redis:/user:${password}@127.0.0.1:${server.port}`,
      ]) {
        let message = '';
        try {
          make([url, 'redis://127.0.0.1:1', 'redis://127.0.0.1:2']);
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message).toMatch(/^Expected `nodes\[0\]`/);
        expect(message).not.toMatch(/p@ss|w0rd|#1/);
      }
    });

    it('the right password, percent-encoded, works', async () => {
      const redlock = make([`redis://:${encodeURIComponent(password)}@127.0.0.1:${server.port}`]);
      const lock = await redlock.acquire('deploy:ok', 1_000);
      await redlock.release(lock);
      expect(await health(redlock)).toMatchObject({ up: true });
    });

    it('nodeDown once per outage, not once per retry; nodeUp once it recovers', async () => {
      const redlock = make([`redis://:right@127.0.0.1:${server.port}`]);
      const events: string[] = [];
      redlock.on('nodeDown', (node, error) => events.push(`down ${node} ${error.message}`));
      redlock.on('nodeUp', (node) => events.push(`up ${node}`));
      let nodeErrors = 0;
      redlock.on('nodeError', () => nodeErrors++);
      // ioredis reconnects every 50 ms, then every 100 ms...: many attempts, one report.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(nodeErrors).toBeGreaterThan(5);
      expect(events).toEqual([
        `down 127.0.0.1:${server.port} WRONGPASS invalid username-password pair or user is disabled.`,
      ]);
      const admin = new Redis(server.port, '127.0.0.1', { password });
      await admin.config('SET', 'requirepass', 'right');
      await admin.quit();
      await eventually(() => expect(events).toHaveLength(2), 5_000);
      expect(events[1]).toBe(`up 127.0.0.1:${server.port}`);
      const admin2 = new Redis(server.port, '127.0.0.1', { password: 'right' });
      await admin2.config('SET', 'requirepass', password);
      await admin2.quit();
    });
  });

  it('RedlockModule logs a refused password once at warn, with its fix, and the recovery', async () => {
    const { Test } = await import('@nestjs/testing');
    const { RedlockModule } = await import('../../lib/index.js');
    const server = await start('--requirepass', 'right');
    const lines: string[] = [];
    const logger = {
      log: (message: unknown) => void lines.push(`log ${String(message)}`),
      warn: (message: unknown) => void lines.push(`warn ${String(message)}`),
      error: (message: unknown) => void lines.push(`error ${String(message)}`),
      debug: () => undefined,
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedlockModule.forRoot({ nodes: [`redis://:wrong@127.0.0.1:${server.port}`], logger }),
      ],
    }).compile();
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(lines).toEqual([
        `warn Redis node 127.0.0.1:${server.port} is down: WRONGPASS invalid username-password ` +
          'pair or user is disabled. Check the username and password in the node URL or ' +
          'options (the server refused them).',
      ]);
      const admin = new Redis(server.port, '127.0.0.1', { password: 'right' });
      await admin.config('SET', 'requirepass', 'wrong');
      await admin.quit();
      await eventually(() => expect(lines).toHaveLength(2), 5_000);
      expect(lines[1]).toBe(`log Redis node 127.0.0.1:${server.port} is up again`);
    } finally {
      await moduleRef.close();
    }
  });

  describe('ACL users', () => {
    let server: RedisServer;
    let admin: Redis;
    beforeAll(async () => {
      server = await start();
      admin = new Redis(server.port, '127.0.0.1');
    });
    afterAll(async () => {
      await admin.quit();
    });
    const user = (name: string) => `redis://${name}:pw@127.0.0.1:${server.port}`;

    it('the README’s minimal ACL is enough: locks, wake-ups by notice, fencing, health', async () => {
      const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
      const acl = /ACL SETUSER locker (.*)/.exec(readme)?.[1];
      expect(acl).toBeDefined();
      await admin.call('ACL', 'SETUSER', 'locker', 'reset', ...acl!.split(' '));
      await admin.call('ACL', 'SETUSER', 'locker', '>pw');
      const redlock = make([user('locker')], { retryCount: -1, retryDelayMs: 2_000 });
      const warnings: RedlockWarning[] = [];
      redlock.on('warning', (warning) => warnings.push(warning));
      const first = await redlock.acquire('lock:a', 5_000, { fencing: true });
      expect(first.fencingToken).toBe(1n);
      const waiting = redlock.acquire('lock:a', 5_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const releasedAt = performance.now();
      await redlock.release(first);
      const second = await waiting;
      // Woken by the release notice, far sooner than the 2 s retry delay.
      expect(performance.now() - releasedAt).toBeLessThan(1_000);
      await redlock.release(second);
      expect(await health(redlock)).toEqual(expect.objectContaining({ up: true }));
      expect((await health(redlock)).warning).toBeUndefined();
      expect(warnings).toEqual([]);
    });

    it('without EVALSHA: NOPERM, and health says the node cannot lock', async () => {
      await createNoScriptsUser(admin);
      const redlock = make([user('noscripts')]);
      const error = await acquireError(redlock);
      expect(error.message).toMatch(/NOPERM/);
      expect(error.message).toMatch(/minimal ACL/);
      expect(await health(redlock)).toMatchObject({ up: false, problem: 'permission' });
    });

    it('without channel access: one warning, and waiters poll instead of spinning', async () => {
      await admin.call('ACL', 'SETUSER', 'nochannels', 'on', '>pw', '~*', 'resetchannels', '+@all');
      const redlock = make([user('nochannels')], {
        retryCount: -1,
        retryDelayMs: 100,
        retryJitterMs: 0,
      });
      const warnings: RedlockWarning[] = [];
      redlock.on('warning', (warning) => warnings.push(warning));
      const scriptsRun = async () =>
        Number(/cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
      const holder = await redlock.acquire('nochan:a', 5_000);
      const before = await scriptsRun();
      const waiting = redlock.acquire('nochan:a', 5_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await redlock.release(holder);
      const lock = await waiting;
      // Polling every 100 ms for 1 s is about 10 scripts; a waiter that looked again after
      // each refused subscription ran thousands.
      expect((await scriptsRun()) - before).toBeLessThan(30);
      await redlock.release(lock);
      expect(warnings.map((warning) => warning.code)).toEqual(['NOTICES_UNAVAILABLE']);
      expect(warnings[0].message).toMatch(/poll every `retryDelayMs`.*Troubleshooting/);
    });

    it('without INFO: usable, with a RESTART_DETECTION_OFF warning and a health warning', async () => {
      await admin.call('ACL', 'SETUSER', 'noinfo', 'on', '>pw', '~*', '&*', '+@all', '-info');
      const redlock = make([user('noinfo')]);
      const warnings: RedlockWarning[] = [];
      redlock.on('warning', (warning) => warnings.push(warning));
      const lock = await redlock.acquire('noinfo:a', 1_000);
      await redlock.release(lock);
      await eventually(() =>
        expect(warnings.map((w) => w.code)).toEqual(['RESTART_DETECTION_OFF']),
      );
      expect(await health(redlock)).toMatchObject({
        up: true,
        warning: expect.stringMatching(/INFO cannot be read.*restart detection is off/),
      });
    });
  });

  describe('renamed commands', () => {
    it('INFO renamed: the node still becomes ready and locks, with the warning', async () => {
      const server = await start('--rename-command', 'INFO', '');
      const redlock = make([server.url]);
      const warnings: RedlockWarning[] = [];
      redlock.on('warning', (warning) => warnings.push(warning));
      // ioredis's ready check needs INFO: the first connection fails it, the next one skips it.
      await eventually(async () => expect((await health(redlock)).up).toBe(true), 3_000);
      const lock = await redlock.acquire('renamed:a', 1_000);
      await redlock.release(lock);
      expect(warnings.map((warning) => warning.code)).toEqual(['RESTART_DETECTION_OFF']);
      expect((await health(redlock)).up).toBe(true);
    });

    it('EVAL and EVALSHA renamed: health says the node cannot run the scripts', async () => {
      const server = await start('--rename-command', 'EVAL', '', '--rename-command', 'EVALSHA', '');
      const redlock = make([server.url]);
      const error = await acquireError(redlock);
      expect(error.message).toMatch(/unknown command.*renamed or disabled/s);
      // The arguments Redis echoes (lock values among them) are not in the message.
      expect(error.message).toMatch(/\(arguments hidden\)/);
      expect(error.message).not.toMatch(/with args beginning/);
      expect(await health(redlock)).toMatchObject({ up: false, problem: 'command' });
    });
  });

  it('a replica: READONLY, and health says it is not up', async () => {
    const primary = await start();
    const replica = await start('--replicaof', '127.0.0.1', String(primary.port));
    const redlock = make([replica.url]);
    const error = await acquireError(redlock);
    expect(error.message).toMatch(/READONLY.*replica, which cannot take locks/s);
    expect(await health(redlock)).toMatchObject({ up: false, problem: 'read-only' });
  });

  it('a database index out of range: not granted on database 0, and said so', async () => {
    const server = await start('--databases', '4');
    const redlock = make([`${server.url}/9`]);
    const error = await acquireError(redlock);
    expect(error.message).toMatch(/database could not be selected.*DB index is out of range/);
    const admin = new Redis(server.port, '127.0.0.1');
    expect(await admin.exists('deploy:k')).toBe(0);
    await admin.quit();
    expect(await health(redlock)).toMatchObject({ up: false, problem: 'database' });
  });

  it('nothing listening, and a host that does not resolve', async () => {
    const refused = make([`redis://127.0.0.1:${await freePort()}`]);
    expect((await acquireError(refused)).message).toMatch(/ECONNREFUSED.*Nothing listens there/s);
    expect(await health(refused)).toMatchObject({ up: false, problem: 'refused' });
    const unknown = make(['redis://no-such-host.invalid:6379']);
    expect((await acquireError(unknown)).message).toMatch(/ENOTFOUND.*does not resolve/s);
  });

  describe('TLS', () => {
    let dir: string;
    let ca: Buffer;
    let server: RedisServer;
    let tlsPort: number;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'redlock-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      ca = readFileSync(join(dir, 'cert.pem'));
      tlsPort = await freePort();
      server = await start(
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        join(dir, 'cert.pem'),
        '--tls-key-file',
        join(dir, 'key.pem'),
        '--tls-ca-cert-file',
        join(dir, 'cert.pem'),
        '--tls-auth-clients',
        'no',
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('rediss:// with an IP sets no servername (no DEP0123), and locks over TLS', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      try {
        const options = parseRedisUrl(`rediss://127.0.0.1:${tlsPort}`);
        expect(options.tls).toEqual({});
        expect(parseRedisUrl('rediss://redis.internal:6380').tls).toEqual({
          servername: 'redis.internal',
        });
        const redlock = make([{ ...options, tls: { ...options.tls, ca } }]);
        const lock = await redlock.acquire('tls:a', 1_000);
        await redlock.release(lock);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings.map((warning) => (warning as { code?: string }).code)).not.toContain(
        'DEP0123',
      );
    });

    it('an untrusted certificate: a TLS error, with TLS advice', async () => {
      const redlock = make([`rediss://127.0.0.1:${tlsPort}`]);
      const error = await acquireError(redlock);
      expect(error.message).toMatch(/self-signed certificate.*TLS failed/s);
      expect(await health(redlock)).toMatchObject({ up: false, problem: 'tls' });
    });

    it('redis:// to the TLS port: reset, with the advice to use rediss://', async () => {
      const redlock = make([`redis://127.0.0.1:${tlsPort}`]);
      expect((await acquireError(redlock)).message).toMatch(/ECONNRESET.*use rediss:\/\//s);
    });

    it('rediss:// to the plaintext port: the handshake never completes, and health says so', async () => {
      const redlock = make([
        { ...parseRedisUrl(server.url.replace('redis:', 'rediss:')), tls: { ca } },
      ]);
      expect(await health(redlock)).toMatchObject({
        up: false,
        problem: 'tls',
        error: expect.stringMatching(/still connecting.*rediss:\/\/ handshake never completes/),
      });
    });
  });
});
