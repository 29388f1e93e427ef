import { createServer, connect, type Server, type Socket } from 'node:net';

/** What the proxy does to the bytes between a client and its node. */
export type ProxyMode =
  | { kind: 'pass' }
  /** Every chunk, both ways, is held this long (order kept). */
  | { kind: 'latency'; ms: number }
  /**
   * A partition: connections stay open and nothing gets through. When it ends, the open
   * connections are reset, as TCP eventually does (bytes are never dropped from a live stream).
   */
  | { kind: 'blackhole' }
  /**
   * The node's replies are gathered and delivered in one write every `ms`, as a network may
   * deliver them: the client reads several replies at once.
   */
  | { kind: 'batch'; ms: number };

/**
 * A TCP proxy on a loopback port in front of one Redis node, for network faults between one
 * client and one node: added latency, or a blackhole. It runs in the test's own process, which
 * is never paused.
 */
export class TcpProxy {
  private mode: ProxyMode = { kind: 'pass' };
  private readonly sockets = new Set<Socket>();

  private readonly server: Server;
  /** The port clients connect to (set once listening). */
  port = 0;

  private constructor(targetPort: number) {
    this.server = createServer((client) => this.accept(client, targetPort));
  }

  /** Listens on a free loopback port and forwards to `targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  /** `redis://127.0.0.1:port`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Changes what happens to the bytes from now on. */
  set(mode: ProxyMode): void {
    if (this.mode.kind === 'blackhole' && mode.kind !== 'blackhole') {
      for (const socket of this.sockets) socket.destroy();
    }
    this.mode = mode;
  }

  /**
   * Resets every open connection (the mode stays): a dropped connection, after which the
   * client reconnects.
   */
  reset(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    this.pipe(client, upstream, false);
    this.pipe(upstream, client, true);
  }

  private pipe(from: Socket, to: Socket, toClient: boolean): void {
    // Chunks leave in order: each waits for the later of its own delay and the chunk before.
    let previous = Promise.resolve();
    let batch: Buffer[] = [];
    from.on('data', (chunk: Buffer) => {
      const mode = this.mode;
      if (mode.kind === 'blackhole') return;
      if (mode.kind === 'batch' && toClient) {
        if (batch.length === 0) {
          setTimeout(() => {
            const all = Buffer.concat(batch);
            batch = [];
            previous = previous.then(() => void (to.destroyed || to.write(all)));
          }, mode.ms);
        }
        batch.push(chunk);
        return;
      }
      if (mode.kind === 'pass' || mode.kind === 'batch') {
        previous = previous.then(() => void (to.destroyed || to.write(chunk)));
        return;
      }
      const due = new Promise<void>((resolve) => setTimeout(resolve, mode.ms));
      previous = Promise.all([previous, due]).then(() => void (to.destroyed || to.write(chunk)));
    });
  }
}
