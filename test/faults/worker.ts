/*
 * One fault-suite client, as a child process (so that it can really be paused with SIGSTOP):
 * acquires the lock on the shared counter, reads it, works, writes it plus one, releases, and
 * reports every step to the parent over IPC. Started by run.ts.
 */
import { Redis } from 'ioredis';
import { FencedRedisStore, Redlock, StaleFencingTokenError, type Lock } from '../../lib/index.js';
import { monotonicMs, type HistoryEvent } from './history.js';

/** What the parent tells a worker (JSON in argv[2]). */
export interface WorkerConfig {
  readonly id: number;
  /** The lock nodes, some possibly through a proxy. */
  readonly nodes: readonly string[];
  /** The storage holding the protected counter. */
  readonly storage: string;
  readonly fencing: boolean;
  readonly ttlMs: number;
  readonly workMs: number;
  readonly restartDelayMs: number;
  /** Report `read-done` after each read, and wait `workMs` after it: the parent may pause us. */
  readonly pausable: boolean;
  /** How long an acquire may wait before it gives up (default 1 s). */
  readonly waitMs?: number;
  /**
   * `'read'`: take read locks and only read the counter. `'unlocked read'`: read it with no
   * lock at all, recording a read grant all the same (a calibration: the checker must see a
   * writer beside it). Default: take the (exclusive) lock, read, work, write.
   */
  readonly mode?: 'read' | 'unlocked read';
}

/** Messages from a worker to the parent. */
export type WorkerMessage =
  | { type: 'event'; event: HistoryEvent }
  | { type: 'read-done' }
  | { type: 'acquire-failed'; code: string }
  | { type: 'ready' }
  | { type: 'done' };

const RESOURCE = 'faults:counter';
const config = JSON.parse(process.argv[2]) as WorkerConfig;
const send = (message: WorkerMessage) => process.send!(message);
const record = (event: HistoryEvent) => send({ type: 'event', event });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stopping = false;
let start!: () => void;
const started = new Promise<void>((resolve) => (start = resolve));
process.on('message', (message: { type: string }) => {
  if (message.type === 'start') start();
  if (message.type === 'stop') stopping = true;
});

const redlock = new Redlock(config.nodes as string[], {
  fencing: config.fencing,
  restartDelayMs: config.restartDelayMs,
  nodeTimeoutMs: 100,
  retryCount: -1,
  retryDelayMs: 5,
  retryJitterMs: 10,
  waitMs: config.waitMs ?? 1_000,
});
redlock.on('nodeError', () => undefined);
const storage = new Redis(config.storage);
const store = new FencedRedisStore(storage);

/**
 * Runs one access of the counter under `lock` and records it: accepted, with the value read or
 * written, or refused by the fenced storage (then `undefined`).
 */
async function access(
  lock: Lock,
  type: 'read' | 'write',
  perform: (token: bigint | undefined) => Promise<number>,
): Promise<number | undefined> {
  const sentAt = monotonicMs();
  const token = lock.fencingToken;
  const common = { worker: config.id, lock: lock.value, sentAt };
  try {
    const value = await perform(token);
    record({ type, ...common, at: monotonicMs(), value, token: token?.toString() });
    return value;
  } catch (error) {
    if (!(error instanceof StaleFencingTokenError)) throw error;
    record({ type: 'refused', ...common, at: monotonicMs(), token: String(token) });
    return undefined;
  }
}

const read = (lock: Lock) =>
  access(lock, 'read', async (token) => {
    const raw =
      token === undefined ? await storage.get(RESOURCE) : await store.get(RESOURCE, token);
    return Number(raw ?? 0);
  });

const write = (lock: Lock, value: number) =>
  access(lock, 'write', async (token) => {
    if (token === undefined) await storage.set(RESOURCE, String(value));
    else await store.set(RESOURCE, String(value), token);
    return value;
  });

/** A reader's round: a read grant, the read, the work, the release. */
async function readOnce(): Promise<void> {
  const startedAt = monotonicMs();
  let lock: Lock | undefined;
  if (config.mode === 'read') {
    try {
      lock = await redlock.acquireRead(RESOURCE, config.ttlMs);
    } catch (error) {
      send({ type: 'acquire-failed', code: (error as { code?: string }).code ?? String(error) });
      return;
    }
  }
  const value = lock?.value ?? `unlocked:${config.id}:${startedAt}`;
  const at = monotonicMs();
  const validUntil = at + (lock ? lock.validityMs : config.ttlMs);
  record({
    type: 'grant',
    worker: config.id,
    lock: value,
    startedAt,
    at,
    validUntil,
    mode: 'read',
  });
  const sentAt = monotonicMs();
  const read = Number((await storage.get(RESOURCE)) ?? 0);
  record({ type: 'read', worker: config.id, lock: value, sentAt, at: monotonicMs(), value: read });
  await sleep(config.workMs);
  record({ type: 'release', worker: config.id, lock: value, at: monotonicMs() });
  await lock?.release();
  if (!lock) await sleep(config.workMs);
}

async function main(): Promise<void> {
  // Connect to every node and learn its run_id before the clock starts (PING answers after
  // the INFO that reads it): a restart is noticed only by a client that saw the node before.
  while ((await redlock.health()).up < config.nodes.length) await sleep(20);
  await storage.ping();
  send({ type: 'ready' });
  await started;
  while (!stopping) {
    if (config.mode) {
      await readOnce();
      continue;
    }
    const startedAt = monotonicMs();
    let lock: Lock;
    try {
      lock = await redlock.acquire(RESOURCE, config.ttlMs);
    } catch (error) {
      send({ type: 'acquire-failed', code: (error as { code?: string }).code ?? String(error) });
      continue;
    }
    const at = monotonicMs();
    record({
      type: 'grant',
      worker: config.id,
      lock: lock.value,
      startedAt,
      at,
      validUntil: at + lock.validityMs,
      token: lock.fencingToken?.toString(),
    });
    const value = await read(lock);
    if (value !== undefined) {
      if (config.pausable) send({ type: 'read-done' });
      await sleep(config.workMs);
      await write(lock, value + 1);
    }
    record({ type: 'release', worker: config.id, lock: lock.value, at: monotonicMs() });
    await lock.release();
  }
  await redlock.quit();
  await storage.quit();
  send({ type: 'done' });
  process.disconnect();
}

main().catch((error: unknown) => {
  console.error(`worker ${config.id} failed:`, error);
  process.exit(1);
});
