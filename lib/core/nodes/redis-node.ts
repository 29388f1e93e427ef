import { Cluster, Redis, ReplyError, type RedisOptions } from 'ioredis';
import {
  NodeMayEvictError,
  NodeMisconfiguredError,
  NodeNotReadyError,
  NodeRestartedError,
  NodeTimeoutError,
} from '../errors/index.js';
import { EvictionWatch, type EvictingNodes } from './eviction-watch.js';
import type { NodeHealth } from '../redlock-health.js';
import { monotonicNow } from '../util/clock.js';
import { closeConnection } from './close-connection.js';
import { ReleaseNotices } from './release-notices.js';
import { RestartWatch } from './restart-watch.js';
import { ALL_SCRIPTS, PROBE_SCRIPT } from '../scripts/scripts.js';
import { evalWithFallback, type LuaScript } from '../scripts/lua-script.js';
import { UnansweredCommands } from './unanswered-commands.js';
import { OWNED_CLIENT_DEFAULTS, parseRedisUrl } from './redis-url.js';
import { RedlockWarning } from '../redlock-warning.js';
import {
  describeWithAdvice,
  diagnose,
  redactNodeError,
  type NodeProblem,
} from './node-diagnosis.js';

/**
 * One Redis node of a Redlock: a `redis://[user:password@]host:port[/db]` or `rediss://` URL,
 * ioredis connection options, or an ioredis `Redis` or `Cluster` instance. Connections made
 * from a URL or options belong to the `Redlock` and are closed by `quit()`; an instance passed
 * in belongs to the caller and is never closed.
 */
export type RedisNodeSpec = string | RedisOptions | Redis | Cluster;

/** Whether a command's operation still wants it sent; checked before any delayed send. */
export type StillWanted = () => boolean;

/** How the engine wants a node to behave and report (internal). */
export interface RedisNodeSettings {
  /** Receives the connection errors of owned clients (which ioredis would otherwise log). */
  readonly onError: (error: Error, node: string) => void;
  /**
   * A node whose oldest unanswered command is older than this is sent no new holds; after
   * `releaseStallMs(stallAfterMs)`, no releases but the clean-ups it is owed.
   */
  readonly stallAfterMs: number;
  /** How long after a restart the node's votes for a hold do not count (0: they always do). */
  readonly restartDelayMs: number;
  /** Told when the node is found to have restarted, with how long its votes stay uncounted. */
  readonly onRestart: (node: string, uncountedForMs: number) => void;
  /** Told of what in the node's set-up weakens the lock (see `RedlockWarning`). */
  readonly onWarning: (warning: RedlockWarning) => void;
  /** What to do with the votes of a node that may evict keys. */
  readonly evictingNodes: EvictingNodes;
  /**
   * Told once when an owned connection fails (and again if the cause changes), with the error;
   * not once per reconnection attempt.
   */
  readonly onDown: (node: string, error: Error) => void;
  /** Told once when a connection reported down is ready again. */
  readonly onUp: (node: string) => void;
}

/**
 * A connection to one node, as the engine uses it: scripts run by EVALSHA with an EVAL
 * fallback, nothing sent while the connection is down (commands are never queued offline), and
 * writes issued within one tick coalesced into one system call.
 */
export class RedisNode {
  /** `host:port`, for errors and events; never includes a password. */
  readonly label: string;
  /** Whether `quit()` closes this connection. */
  readonly owned: boolean;
  /** Whether the node is a Redis Cluster (a multi-key script must stay in one slot). */
  readonly isCluster: boolean;
  /** The key prefix the client adds to every key, if any. */
  readonly keyPrefix: string;
  /** The node's release notices, for waiters; none on a Redis Cluster node. */
  readonly notices: ReleaseNotices | undefined;
  private readonly client: Redis | Cluster;
  /** Settles when the first connection attempt ends; undefined after that. */
  private firstConnection: Promise<void> | undefined;
  /**
   * Whether a command was written on this connection in the current tick, and so whether a
   * next one is corked (see `send`); cleared on the next tick.
   */
  private writtenThisTick = false;
  /** The socket corked until the end of this tick, if one is. */
  private corked: { uncork(): void } | undefined;
  /** Commands sent on this connection and not yet answered. */
  private readonly unanswered = new UnansweredCommands();
  /**
   * Counts the connections: a command sent on an earlier one that closed is no longer awaited
   * (ioredis drops it, or re-sends it on a caller's client), so its reply, if ever, is not
   * counted as an answer of this one.
   */
  private connection = 0;
  private readonly settings: RedisNodeSettings;
  /** Notices restarts, and keeps the votes of a restarted node out for a while. */
  private readonly restarts: RestartWatch;
  /** Notices a node that may evict keys, and keeps its votes out unless told to count them. */
  private readonly eviction: EvictionWatch;
  /** The owned connection's last error (its cause, when it is down). */
  private lastError: Error | undefined;
  /** The cause last reported by `onDown`, until the node is reported up again. */
  private reportedDown: NodeProblem | undefined;
  /** Whether a PING to a stalled node is on its way (see `probeStalled`). */
  private probing = false;
  /** Why INFO cannot be read (renamed, denied), while it cannot; warned of once. */
  private infoUnreadable: string | undefined;
  /**
   * Since when (monotonic ms) every hold for this node has been refused unsent (it stalled or
   * was not ready); undefined again once one is sent. A lock whose acquisition began after
   * that has nothing here to release (see `run`).
   */
  private holdsUnsentSince: number | undefined;
  /**
   * Set while this connection is not what was asked for (its database not selected, or it
   * refuses this client's scripts): no hold is sent to it.
   */
  private misconfigured: NodeMisconfiguredError | undefined;
  /** The probe of a new connection until its answer is read: replies to holds wait for it. */
  private scriptsCheck: Promise<void> | undefined;

  private readonly onClose = () => {
    this.connection++;
    this.unanswered.clear();
    this.restarts.disconnected();
    this.misconfigured = undefined;
    this.scriptsCheck = undefined;
  };

  private constructor(
    client: Redis | Cluster,
    owned: boolean,
    label: string,
    settings: RedisNodeSettings,
  ) {
    this.client = client;
    this.settings = settings;
    this.restarts = new RestartWatch({ label, ...settings });
    this.eviction = new EvictionWatch({ label, ...settings });
    this.owned = owned;
    this.label = label;
    this.isCluster =
      client instanceof Cluster || (client as { isCluster?: boolean }).isCluster === true;
    const options = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
    this.keyPrefix = options.keyPrefix ?? options.redisOptions?.keyPrefix ?? '';
    this.notices = this.isCluster
      ? undefined
      : new ReleaseNotices(
          client as Redis,
          (error) => settings.onError(redactNodeError(error), label),
          () => this.subscriberConnected(),
          (error) =>
            settings.onWarning(
              new RedlockWarning(
                'NOTICES_UNAVAILABLE',
                label,
                `the node refused to subscribe this client to release notices (${error.message}), ` +
                  'so waiters poll every `retryDelayMs` instead of being woken at once. Grant ' +
                  'the user SUBSCRIBE and its channels (`&<keyPrefix>*`); see the README ' +
                  '("Troubleshooting").',
              ),
            ),
        );
    if (!this.isCluster) {
      // Load the scripts whenever a connection becomes ready (a restarted node has lost them),
      // before any command that waited for it: EVALSHA then rarely needs its fallback. Read
      // the server's run_id too, before those commands: it tells whether the node restarted.
      client.on('ready', () => this.onReady());
      if (client.status === 'ready') this.onReady();
    }
    if (owned) client.on('error', (error: Error) => this.connectionFailed(error));
    this.firstConnection = this.watchFirstConnection();
    client.on('close', this.onClose);
    if (!owned && (client.options as RedisOptions).autoResendUnfulfilledCommands !== false) {
      // Told on the next tick, so that a listener added right after the constructor hears it.
      process.nextTick(() =>
        settings.onWarning(
          new RedlockWarning(
            'CLIENT_RESENDS_COMMANDS',
            label,
            'this ioredis client re-sends unanswered commands after a reconnection, so a ' +
              'lock command cut off by a dropped connection can land after its operation was ' +
              'decided (an acquire after its own clean-up release leaves a stale key for its ' +
              'ttl). Create it with `autoResendUnfulfilledCommands: false` (and ' +
              '`enableOfflineQueue: false`), or pass a URL or options and let the engine own ' +
              'the connection.',
          ),
        ),
      );
    }
  }

  /** Makes a node from what the user gave; `index` names it in errors. */
  static from(spec: RedisNodeSpec, index: number, settings: RedisNodeSettings): RedisNode {
    const options = RedisNode.validate(spec, index);
    if (options === undefined) {
      const client = spec as Redis | Cluster;
      return new RedisNode(client, false, labelOfClient(client), settings);
    }
    const label = labelOf(options);
    // The node's constructor listens for the connection's errors, in this same tick.
    return new RedisNode(new Redis(options), true, label, settings);
  }

  /**
   * Checks a node spec without connecting: answers the options of the connection to open, or
   * `undefined` for an instance the caller owns.
   * @throws {TypeError} naming `nodes[index]`.
   */
  static validate(spec: unknown, index: number): RedisOptions | undefined {
    const argument = `nodes[${index}]`;
    if (typeof spec === 'string') return parseRedisUrl(spec, argument);
    if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) {
      if (isClientInstance(spec)) return undefined;
      if (!isPlainObject(spec)) {
        // node-redis, ioredis-mock and the like: spread into options, they would silently
        // connect to localhost:6379.
        throw new TypeError(
          `Expected \`${argument}\` to be a redis:// URL, ioredis options or an ioredis ` +
            `Redis or Cluster instance, got an instance of ${spec.constructor?.name ?? 'a class'}` +
            ': other clients (node-redis, ioredis-mock) are not supported; pass a URL instead.',
        );
      }
      return { ...OWNED_CLIENT_DEFAULTS, ...(spec as RedisOptions) };
    }
    throw new TypeError(
      `Expected \`${argument}\` to be a redis:// URL, ioredis options or an ioredis instance, ` +
        `got ${spec === null ? 'null' : Array.isArray(spec) ? 'an array' : typeof spec}`,
    );
  }

  /**
   * Why a vote of this node for a hold must not count now, or `undefined` if it counts: the
   * node restarted less than `restartDelayMs` ago (it may have lost the keys of locks that are
   * still valid), or its identity is still being read after a reconnection.
   */
  uncountedReason():
    | NodeRestartedError
    | NodeNotReadyError
    | NodeMayEvictError
    | NodeMisconfiguredError
    | undefined {
    // A hand-off notice can arrive while the lock connection is down: the node may have
    // restarted, and nothing has checked it yet.
    if (this.client.status !== 'ready') return this.notReady();
    return this.misconfigured ?? this.restarts.uncountedReason() ?? this.eviction.uncountedReason();
  }

  /**
   * Runs `script` on this node and answers its reply. Rejects at once with
   * `NodeNotReadyError` if the connection is down, except while the first connection is still
   * being made: then it waits for it (commands waiting so leave in the order they were given).
   * `stillWanted` is asked before a NOSCRIPT fallback of a script that must not run late.
   * `holdsSince`, for a release: when the lock's acquisition began (monotonic ms). If no hold
   * has been sent to this node since before then, the lock has nothing here, and the release
   * is not sent: a node that stalls or is down is not sent a release for every lock taken
   * without it.
   */
  run<Reply = number>(
    script: LuaScript,
    keys: readonly string[],
    args: readonly (string | number)[],
    stillWanted: StillWanted,
    holdsSince?: number,
  ): Promise<Reply> {
    if (
      holdsSince !== undefined &&
      this.holdsUnsentSince !== undefined &&
      this.holdsUnsentSince <= holdsSince
    ) {
      return Promise.reject(
        new NodeNotReadyError(this.label, 'it was sent none of the lock’s holds (stalled or down)'),
      );
    }
    // A hold the node could not release is not sent.
    if (script.takesHold && this.misconfigured && this.client.status === 'ready') {
      return Promise.reject(this.misconfigured);
    }
    if (this.client.status === 'ready') {
      // A node that keeps its connection open but stopped answering (paused, partitioned) gets
      // no new holds: they would land when nobody wants them. After a longer silence, no
      // releases either, beyond one for each hold it was sent and has not answered (a late
      // acquire then finds its clean-up behind it): everything sent would pile up in memory
      // (the client's queue, the socket's buffer) for as long as it stalls, and the keys of
      // other releases expire by ttl anyway. Releases wait longer, since a skipped one keeps a
      // key held: a busy event loop that has not read the replies yet must not skip them.
      const now = monotonicNow();
      const waitedMs = this.isCluster ? 0 : this.unanswered.oldestWaitMs(now);
      const stalled = script.takesHold
        ? waitedMs > this.settings.stallAfterMs
        : waitedMs > releaseStallMs(this.settings.stallAfterMs) && !this.unanswered.mayCleanUp();
      if (stalled) {
        if (script.takesHold) this.holdsUnsentSince ??= now;
        this.probeStalled(now);
        return Promise.reject(
          new NodeNotReadyError(this.label, `no answer for ${Math.round(waitedMs)} ms`),
        );
      }
      return this.afterScriptsCheck(
        script,
        this.evaluate<Reply>(script, keys, args, stillWanted, now),
      );
    }
    const firstConnection = this.firstConnection;
    if (firstConnection === undefined) {
      if (script.takesHold) this.holdsUnsentSince ??= monotonicNow();
      return Promise.reject(this.notReady());
    }
    // Once connected, through the checks above again (the probe of the new connection).
    return firstConnection.then(() => {
      if (this.client.status !== 'ready') throw this.notReady();
      return this.run<Reply>(script, keys, args, stillWanted, holdsSince);
    });
  }

  /** Whether the connection is up and ready for commands now (no round trip: for gauges). */
  get connected(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * Checks that the node can take locks now, within `timeoutMs`: it is connected, runs this
   * client's scripts (an ACL or a renamed command may forbid them), is a primary (a replica
   * answers READONLY), and counts (it did not just restart, its database was selected). Never
   * rejects; leaves no timer.
   */
  async health(timeoutMs: number): Promise<NodeHealth> {
    const node = this.label;
    const startedAt = monotonicNow();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NodeTimeoutError(node, timeoutMs)), timeoutMs);
    });
    try {
      // Right after start, the first connection may still be on its way: wait for it.
      if (this.firstConnection) {
        await Promise.race([this.firstConnection, timedOut]).catch(() => undefined);
      }
      if (this.client.status !== 'ready') return unhealthy(node, this.notReady());
      await Promise.race([
        settledLater(this.evaluate(PROBE_SCRIPT, [], [], () => true, monotonicNow())),
        timedOut,
      ]);
      const latencyMs = Math.round((monotonicNow() - startedAt) * 100) / 100;
      if (!this.isCluster && this.infoUnreadable === undefined) {
        // INFO may be denied or renamed: then neither the role nor the policy can be read.
        const info = await Promise.race([
          settledLater(
            (this.client as Redis).info().catch((error: unknown) => {
              if (/unknown command|NOPERM/i.test(String(error))) return '';
              throw error;
            }),
          ),
          timedOut,
        ]);
        if (/^role:slave/m.test(info)) {
          const error = new Error('READONLY: the node is a replica (role:slave)');
          return { ...unhealthy(node, error), latencyMs };
        }
        // A node found able to evict is read again, so that fixing its policy takes effect.
        if (this.eviction.mayEvict) this.eviction.read(info);
      }
      const uncounted = this.uncountedReason();
      if (uncounted) return { ...unhealthy(node, uncounted), latencyMs };
      const warnings = [this.eviction.healthWarning(), this.infoWarning()].filter(
        (warning): warning is string => warning !== undefined,
      );
      return warnings.length > 0
        ? { node, up: true, latencyMs, warning: warnings.join(' ') }
        : { node, up: true, latencyMs };
    } catch (error) {
      return unhealthy(
        node,
        error instanceof Error ? redactNodeError(error) : new Error(String(error)),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Closes the connection if this node owns it (a caller's instance is left open), and the
   * subscriber connection for release notices in any case.
   */
  async close(): Promise<void> {
    await this.notices?.close();
    this.client.off('close', this.onClose);
    if (this.owned) await closeConnection(this.client as Redis);
  }

  /**
   * A node found stalled is sent one PING (never more than one at a time): its reply answers
   * every older command, so a node that was only slow once (a command the client gave up on,
   * and no traffic since) counts again after one round trip, while a node that is really
   * silent gets one small command more.
   */
  private probeStalled(now: number): void {
    if (this.probing || this.isCluster) return;
    this.probing = true;
    this.send(() => (this.client as Redis).ping(), now, false)
      .catch(() => undefined)
      .finally(() => (this.probing = false));
  }

  /** Why the connection cannot take a command now, with its last error as the cause. */
  private notReady(): NodeNotReadyError {
    const status = this.client.status;
    let reason = `status: ${status}`;
    if (status === 'connecting' || status === 'connect') {
      reason = `still connecting (status: ${status})`;
      // A TLS client on a plaintext port waits for a handshake that never comes.
      if ((this.client.options as RedisOptions).tls) {
        reason += '; if the port does not serve TLS, a rediss:// handshake never completes';
      }
    }
    return new NodeNotReadyError(this.label, reason, this.lastError);
  }

  /**
   * An owned connection failed. Reported once per cause rather than per reconnection attempt;
   * a failed SELECT (the connection then works on database 0) keeps the node's votes out; a
   * renamed INFO, which ioredis's ready check needs, is routed around.
   */
  private connectionFailed(error: Error): void {
    redactNodeError(error);
    this.lastError = error;
    const command = (error as { command?: { name?: unknown } }).command;
    if (command?.name === 'select') {
      this.misconfigured = new NodeMisconfiguredError(
        this.label,
        `its database could not be selected (${error.message}), so this connection would ` +
          'lock keys in database 0',
        error,
      );
    }
    const options = this.client.options as RedisOptions;
    if (
      options.enableReadyCheck !== false &&
      command?.name === 'info' &&
      /unknown command/i.test(error.message)
    ) {
      // The next connection becomes ready without INFO (restart detection is then off).
      options.enableReadyCheck = false;
    }
    this.reportDown(error);
    this.settings.onError(error, this.label);
  }

  private reportDown(error: Error): void {
    const problem = diagnose(error);
    if (this.reportedDown === problem) return;
    this.reportedDown = problem;
    this.settings.onDown(this.label, error);
  }

  private evaluate<Reply>(
    script: LuaScript,
    keys: readonly string[],
    args: readonly (string | number)[],
    stillWanted: StillWanted,
    now: number,
  ): Promise<Reply> {
    if (script.takesHold) this.holdsUnsentSince = undefined;
    if (script.command === 'set-if-absent') {
      const [value, ttlMs] = args as [string, number];
      return this.send<Reply>(() => this.client.set(keys[0], value, 'PX', ttlMs, 'NX'), now, true);
    }
    // A late acquire must not land after the release that followed it: no fallback for a hold
    // once its operation was decided.
    return evalWithFallback<Reply>(
      () =>
        this.send<Reply>(
          () => this.client.evalsha(script.sha, keys.length, ...keys, ...args),
          now,
          script.takesHold,
        ),
      () =>
        this.send<Reply>(
          () => this.client.eval(script.source, keys.length, ...keys, ...args),
          monotonicNow(),
          script.takesHold,
        ),
      () => !script.takesHold || stillWanted(),
    );
  }

  /**
   * Sends one command: the first of a tick at once (a lone operation pays no batching delay,
   * even while an earlier command on this connection awaits its reply), the next ones of the
   * same tick corked together (one write for many concurrent operations).
   */
  private send<Reply>(
    command: () => Promise<unknown>,
    now: number,
    takesHold: boolean,
  ): Promise<Reply> {
    this.coalesceWrites();
    const sequence = this.unanswered.sent(now, takesHold);
    const connection = this.connection;
    return command().then(
      (reply) => {
        if (connection === this.connection) this.unanswered.answered(sequence);
        return reply as Reply;
      },
      (error: unknown) => {
        // Only a reply from the node answers the command (and the older ones). A rejection by
        // the client (ioredis's commandTimeout, a command never written) leaves it awaited: it
        // may still be queued in the client and the socket.
        if (connection === this.connection && isReplyError(error)) {
          this.unanswered.answered(sequence);
        }
        throw redactNodeError(error);
      },
    );
  }

  /**
   * Lets the tick's first command go straight out, and corks the socket for the others until
   * the tick ends: operations that resume together (replies read in one go, a `Promise.all`)
   * leave in one system call. Corking the first as well would delay a lone command to the end
   * of the tick and cost a vectored write for nothing.
   */
  private coalesceWrites(): void {
    if (this.isCluster) return;
    if (!this.writtenThisTick) {
      this.writtenThisTick = true;
      process.nextTick(this.tickEnded);
      return;
    }
    if (this.corked) return;
    const stream = (this.client as Redis).stream as NodeJS.WritableStream & {
      cork?: () => void;
      uncork?: () => void;
    };
    if (!stream || typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') {
      return;
    }
    stream.cork();
    this.corked = stream as { uncork(): void };
  }

  private readonly tickEnded = () => {
    this.writtenThisTick = false;
    const corked = this.corked;
    this.corked = undefined;
    corked?.uncork();
  };

  /**
   * A hold's reply, passed on only once the probe of the connection is answered: a node found
   * to refuse scripts then makes it a failure, so the grant of a node that cannot release it
   * never counts. (Replies read together reach their handlers in a few promise steps each, the
   * probe's in more: without the wait, a grant could be counted first.)
   */
  private afterScriptsCheck<Reply>(script: LuaScript, reply: Promise<Reply>): Promise<Reply> {
    const check = script.takesHold ? this.scriptsCheck : undefined;
    if (check === undefined) return reply;
    return Promise.all([reply, check]).then(([value]) => {
      if (this.misconfigured) throw this.misconfigured;
      return value;
    });
  }

  /**
   * Runs the probe script once per connection. A node that takes SET but refuses this client's
   * scripts (an ACL without EVALSHA, a renamed EVAL) would grant an acquire's plain first
   * attempt and then fail its release, so the key stayed held for its ttl: such a node is sent
   * no more holds, the grants it answered before the probe do not count, and it is reported
   * down with the cause. (Those grants stay on it for their ttl: its releases fail.)
   */
  private checkScriptsRun(): void {
    const connection = this.connection;
    const check: Promise<void> = this.evaluate(PROBE_SCRIPT, [], [], () => true, monotonicNow())
      .then(
        () => undefined,
        (error: unknown) => {
          const problem = diagnose(error);
          if (connection !== this.connection) return;
          if (problem !== 'permission' && problem !== 'command') return;
          const cause = redactNodeError(error as Error);
          this.misconfigured = new NodeMisconfiguredError(
            this.label,
            `it does not run this client's scripts (${cause.message}), which releases need`,
            cause,
          );
          this.reportDown(this.misconfigured);
        },
      )
      .finally(() => {
        if (this.scriptsCheck === check) this.scriptsCheck = undefined;
      });
    this.scriptsCheck = check;
  }

  /**
   * The subscriber (re)connected, perhaps to a server that restarted while the lock connection
   * has not noticed yet: the node's identity is read again on the lock connection, and its
   * votes and notices do not count until that reply (a connection still open to a server that
   * died never answers, and then the node does not count at all).
   */
  private subscriberConnected(): void {
    if (this.client.status !== 'ready' || this.settings.restartDelayMs <= 0) return;
    this.restarts.connected((this.client as Redis).info('server'));
  }

  private onReady(): void {
    const client = this.client as Redis;
    if (this.misconfigured) this.reportDown(this.misconfigured);
    else if (this.reportedDown !== undefined) {
      this.reportedDown = undefined;
      this.settings.onUp(this.label);
    }
    for (const script of ALL_SCRIPTS) client.script('LOAD', script.source).catch(() => undefined);
    this.checkScriptsRun();
    // One INFO (server and memory sections among the defaults) tells whether the node
    // restarted and whether it may evict; its reply comes before any vote sent after it.
    const info = client.info();
    this.restarts.connected(info);
    info.then(
      (reply) => {
        this.infoUnreadable = undefined;
        this.eviction.read(reply);
      },
      (error: unknown) => this.infoFailed(error),
    );
  }

  /** INFO failed: if it is renamed or denied (not a dropped connection), warn once. */
  private infoFailed(error: unknown): void {
    if (!/unknown command|NOPERM/i.test(String(error))) return;
    const first = this.infoUnreadable === undefined;
    this.infoUnreadable = error instanceof Error ? redactNodeError(error).message : String(error);
    if (first) {
      this.settings.onWarning(
        new RedlockWarning('RESTART_DETECTION_OFF', this.label, this.infoWarning()!),
      );
    }
  }

  /** What the health check says while INFO cannot be read, or `undefined`. */
  private infoWarning(): string | undefined {
    if (this.infoUnreadable === undefined) return undefined;
    const restarts =
      this.settings.restartDelayMs > 0
        ? 'restart detection is off (a restart that lost its data goes unnoticed, and its ' +
          'votes count at once) and '
        : '';
    return (
      `INFO cannot be read (${this.infoUnreadable}): ${restarts}the eviction policy is not ` +
      'checked. Allow INFO for this user (+info), or persist every write (appendfsync ' +
      'always) and set noeviction yourself; see the README ' +
      '("Troubleshooting").'
    );
  }

  private watchFirstConnection(): Promise<void> | undefined {
    const client = this.client;
    if (client.status === 'ready') return undefined;
    if (client.status === 'wait') client.connect().catch(() => undefined);
    if (client.status !== 'connecting' && client.status !== 'connect' && client.status !== 'wait') {
      return undefined;
    }
    return new Promise<void>((resolve) => {
      const settle = () => {
        client.off('ready', settle);
        client.off('error', settle);
        client.off('close', settle);
        this.firstConnection = undefined;
        resolve();
      };
      client.on('ready', settle);
      client.on('error', settle);
      client.on('close', settle);
    });
  }
}

/**
 * `operation`, raced against a timeout that may win: its rejection after losing the race must
 * not go unhandled (it would end the process), so it is marked handled here.
 */
function settledLater<T>(operation: Promise<T>): Promise<T> {
  operation.catch(() => undefined);
  return operation;
}

/** A node found unable to take locks, with what to do about it. */
function unhealthy(node: string, error: Error): NodeHealth {
  return { node, up: false, error: describeWithAdvice(error), problem: diagnose(error) };
}

/**
 * How long a node may leave a command unanswered before it is sent no releases (beyond the
 * clean-ups it is owed): four times the hold limit, at least one second.
 */
export function releaseStallMs(stallAfterMs: number): number {
  return Math.max(1_000, 4 * stallAfterMs);
}

/** An error reply from Redis (not one made by the client about the command). */
function isReplyError(error: unknown): boolean {
  // By class, and by name for another copy of ioredis (whose class a bundler may rename).
  return error instanceof ReplyError || (error as { name?: unknown } | null)?.name === 'ReplyError';
}

function isClientInstance(spec: object): spec is Redis | Cluster {
  if (spec instanceof Redis || spec instanceof Cluster) return true;
  // Another copy of ioredis (a second install, or its ES module twin) fails instanceof; its
  // classes keep their names, which look-alikes (ioredis-mock's RedisMock) do not have.
  const candidate = spec as { evalsha?: unknown; status?: unknown; duplicate?: unknown };
  const name = spec.constructor?.name;
  return (
    (name === 'Redis' || name === 'Cluster') &&
    typeof candidate.evalsha === 'function' &&
    typeof candidate.duplicate === 'function' &&
    typeof candidate.status === 'string'
  );
}

function isPlainObject(spec: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(spec);
  return prototype === Object.prototype || prototype === null;
}

/** The connection options of a node, for comparing nodes: what it opens, or a client's own. */
export function connectionOptionsOf(spec: RedisNodeSpec, index: number): RedisOptions | undefined {
  const options = RedisNode.validate(spec, index);
  if (options !== undefined) return options;
  if (spec instanceof Cluster || (spec as { isCluster?: boolean }).isCluster) return undefined;
  return (spec as Redis).options;
}

function labelOf(options: RedisOptions): string {
  if (options.path) return options.path;
  return `${options.host ?? 'localhost'}:${options.port ?? 6379}`;
}

function labelOfClient(client: Redis | Cluster): string {
  if (client instanceof Cluster || (client as { isCluster?: boolean }).isCluster) {
    const startup = (client as unknown as { startupNodes?: unknown[] }).startupNodes ?? [];
    const first = startup[0] as { host?: string; port?: number } | string | number | undefined;
    const name =
      typeof first === 'object'
        ? `${first.host ?? 'localhost'}:${first.port ?? 6379}`
        : String(first ?? '?');
    return `cluster(${name})`;
  }
  return labelOf((client as Redis).options);
}
