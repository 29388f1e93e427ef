import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every redis-server this process started, killed on exit whatever happens. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Options of one spawned node. */
export interface RedisNodeOptions {
  /** Turn on AOF with `appendfsync always`, so the data survives a restart. */
  appendOnly?: boolean;
  /** Start it as a Redis Cluster node. */
  cluster?: boolean;
  /** Further redis-server arguments, e.g. `['--requirepass', 'secret']`. */
  args?: string[];
  /** The redis-server binary to run (default: `redis-server` on the PATH). */
  command?: string;
  /** Environment variables added to the server's, e.g. libfaketime's. */
  env?: Record<string, string>;
}

/**
 * A real redis-server process on a free loopback port, in its own temporary directory, that a
 * test can kill, pause, resume and restart.
 */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  private child: ChildProcess | undefined;

  private constructor(
    port: number,
    private readonly options: RedisNodeOptions,
  ) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), `redlock-test-${port}-`));
  }

  /** Starts a server on a free port and resolves once it answers PING. */
  static async start(options: RedisNodeOptions = {}): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(await freePort(), options);
      try {
        await server.launch();
        return server;
      } catch (error) {
        server.remove();
        if (attempt >= 5) throw error;
      }
    }
  }

  /** `redis://127.0.0.1:port`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The process id, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGKILL: the node dies at once, with no chance to save anything. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
    running.delete(child);
  }

  /** SIGSTOP: the node stays connected but answers nothing (a blackhole) until resume(). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Starts the server again on the same port and directory (after kill()). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    this.remove();
  }

  private remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.appendOnly ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    if (this.options.cluster) {
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(this.dir, 'nodes.conf'));
    }
    args.push(...(this.options.args ?? []));
    const child = spawn(this.options.command ?? 'redis-server', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: this.options.env ? { ...process.env, ...this.options.env } : process.env,
    });
    running.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(new Error(`redis-server on port ${this.port} exited (${code}): ${stderr}`)),
      ),
    );
    exited.catch(() => running.delete(child));
    this.child = child;
    await Promise.race([waitForPing(this.port, 5_000), exited]);
  }
}

/** N servers, stopped together. */
export class RedisCluster {
  private constructor(readonly servers: RedisServer[]) {}

  /** Starts `count` independent servers in parallel. */
  static async start(count: number, options: RedisNodeOptions = {}): Promise<RedisCluster> {
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => RedisServer.start(options)),
    );
    const servers = started.flatMap((result) =>
      result.status === 'fulfilled' ? [result.value] : [],
    );
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) {
      await Promise.all(servers.map((server) => server.stop()));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new RedisCluster(servers);
  }

  /** The servers' URLs, in order. */
  get urls(): string[] {
    return this.servers.map((server) => server.url);
  }

  /** Restarts every server that is not running, and resumes paused ones. */
  async heal(): Promise<void> {
    await Promise.all(
      this.servers.map(async (server) => {
        server.resume();
        if (server.pid === undefined) await server.restart();
      }),
    );
  }

  /** Stops every server and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
  }
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    // +PONG, or -NOAUTH from a server with a password: either way it is up.
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}
