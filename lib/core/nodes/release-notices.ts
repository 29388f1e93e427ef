import type { Redis } from 'ioredis';
import { closeConnection } from './close-connection.js';
import { monotonicNow } from '../util/clock.js';

/** Told of a notice: the value the lock was handed to, or '' when it is free. */
export type ReleaseListener = (message: string) => void;

/** A channel nobody has listened to for this long is unsubscribed (checked this often). */
const IDLE_UNSUBSCRIBE_MS = 1_000;

/** After the node refused a subscription, none is tried for this long (an ACL may change). */
const REFUSED_SUBSCRIBE_PAUSE_MS = 30_000;

/**
 * One node's release notices, on a subscriber connection of their own, opened on first need
 * and shared by every waiter of the Redlock (internal). Waiters listen by channel (and
 * message); a channel is subscribed the first time a waiter has to wait on it, and
 * unsubscribed once nobody has listened for a second, so a run of contended acquisitions
 * subscribes once. A notice is a hint: a lost one (reconnection) costs the waiter at most
 * its retry delay, since it also polls.
 */
export class ReleaseNotices {
  private subscriber: Redis | undefined;
  /** By channel, or by channel and message (see {@link listen}). */
  private readonly listeners = new Map<string, Set<ReleaseListener>>();
  /** How many listeners each channel has, whatever their message. */
  private readonly listenerCounts = new Map<string, number>();
  /** When the last notice arrived on each listened channel (monotonic ms). */
  private readonly lastNotices = new Map<string, number>();
  /** Channels subscribed to, or being subscribed to. */
  private readonly subscribed = new Set<string>();
  /** Subscriptions not yet in effect. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Subscribed channels without listeners, and since when (monotonic ms). */
  private readonly idleSince = new Map<string, number>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  /** Until when (monotonic ms) no subscription is tried, after the node refused one. */
  private refusedUntil = 0;
  /** Whether the refusal was reported (once, until a subscription succeeds again). */
  private refusalReported = false;

  /**
   * @param source the node's command connection; the subscriber is its duplicate.
   * @param onError receives the subscriber's connection and command errors.
   * @param onConnected told each time the subscriber connection becomes ready, before any
   * notice arrives on it (a reconnection may have reached a restarted server).
   * @param onRefused told once when the node refuses to subscribe this client (an ACL without
   * SUBSCRIBE or channel access, a renamed command); waiters then poll.
   */
  constructor(
    private readonly source: Redis,
    private readonly onError: (error: Error) => void,
    private readonly onConnected: () => void = () => undefined,
    private readonly onRefused: (error: Error) => void = () => undefined,
  ) {}

  /**
   * Calls `listener` with each notice on `channel`, or only with the notices whose message is
   * `message` (found by a map lookup, however many listen), until the returned function is
   * called.
   */
  listen(channel: string, listener: ReleaseListener, message?: string): () => void {
    const key = message === undefined ? channel : `${channel}\n${message}`;
    let keyListeners = this.listeners.get(key);
    if (keyListeners === undefined) {
      keyListeners = new Set();
      this.listeners.set(key, keyListeners);
    }
    keyListeners.add(listener);
    this.listenerCounts.set(channel, (this.listenerCounts.get(channel) ?? 0) + 1);
    this.idleSince.delete(channel);
    let listening = true;
    return () => {
      if (!listening) return;
      listening = false;
      keyListeners.delete(listener);
      if (keyListeners.size === 0 && this.listeners.get(key) === keyListeners) {
        this.listeners.delete(key);
      }
      const count = (this.listenerCounts.get(channel) ?? 1) - 1;
      if (count > 0) {
        this.listenerCounts.set(channel, count);
        return;
      }
      this.listenerCounts.delete(channel);
      this.lastNotices.delete(channel);
      if (this.subscribed.has(channel)) {
        this.idleSince.set(channel, monotonicNow());
        this.sweeper ??= setInterval(() => this.sweep(), IDLE_UNSUBSCRIBE_MS).unref();
      }
    };
  }

  /** When the last notice on `channel` arrived (monotonic ms), or `undefined`. */
  lastNoticeAt(channel: string): number | undefined {
    return this.lastNotices.get(channel);
  }

  /**
   * Subscribes to `channel` unless it already is. Answers, while the subscription is not yet
   * in effect, a promise that settles once it is (or failed): notices published before that
   * were missed, so a waiter looks again then. Never rejects.
   */
  subscribe(channel: string): Promise<void> | undefined {
    if (this.closed) return undefined;
    // Refused lately: waiters poll at their retry delay rather than look again at once after
    // each refused subscription, which made them spin.
    if (this.refusedUntil > monotonicNow()) return undefined;
    const pending = this.pending.get(channel);
    if (pending || this.subscribed.has(channel)) return pending;
    this.subscribed.add(channel);
    const subscribing = this.connection()
      .subscribe(channel)
      .then(
        () => {
          this.refusalReported = false;
        },
        (error: Error) => {
          this.subscribed.delete(channel);
          this.onError(error);
          if (/NOPERM|unknown command/i.test(error.message)) this.refused(error);
        },
      )
      .finally(() => this.pending.delete(channel));
    this.pending.set(channel, subscribing);
    return subscribing;
  }

  private refused(error: Error): void {
    this.refusedUntil = monotonicNow() + REFUSED_SUBSCRIBE_PAUSE_MS;
    if (this.refusalReported) return;
    this.refusalReported = true;
    this.onRefused(error);
  }

  /** Closes the subscriber connection and stops the sweeper. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.listeners.clear();
    this.listenerCounts.clear();
    this.subscribed.clear();
    this.pending.clear();
    this.idleSince.clear();
    if (this.subscriber) await closeConnection(this.subscriber);
  }

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    // Unlike the lock commands, a SUBSCRIBE may wait for the connection: it is only a hint.
    // A SUBSCRIBE cut off by a reconnection is re-sent (the lock connections turn that off):
    // otherwise its channel would stay pending for good.
    // ioredis's own re-subscription after a reconnection sends SUBSCRIBE with no handler: a
    // connection that closes before its reply would reject it unhandled and end the process.
    // The channels are subscribed again here instead.
    const subscriber = this.source.duplicate({
      enableOfflineQueue: true,
      autoResendUnfulfilledCommands: true,
      autoResubscribe: false,
      lazyConnect: false,
      disconnectTimeout: 0,
    });
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (connectedBefore) this.resubscribe(subscriber);
      connectedBefore = true;
    });
    subscriber.on('error', (error: Error) => {
      // INFO renamed: ioredis's ready check would fail forever (see RedisNode).
      const command = (error as { command?: { name?: unknown } }).command;
      if (command?.name === 'info' && /unknown command/i.test(error.message)) {
        subscriber.options.enableReadyCheck = false;
      }
      this.onError(error);
    });
    // 'ready' is emitted before the socket is read again, so before any notice on it.
    subscriber.on('ready', this.onConnected);
    subscriber.on('message', (channel: string, message: string) => {
      if (this.listenerCounts.has(channel)) this.lastNotices.set(channel, monotonicNow());
      // A semaphore's notice names the slot after the value ('<value>@<slot>'): its listeners
      // listen for the value.
      const at = message.indexOf('@');
      const value = at < 0 ? message : message.slice(0, at);
      const byMessage = this.listeners.get(`${channel}\n${value}`);
      if (byMessage) for (const listener of byMessage) listener(message);
      const byChannel = this.listeners.get(channel);
      if (byChannel) for (const listener of byChannel) listener(message);
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  /**
   * After a reconnection: subscribes again to the channels that were in effect (those still
   * pending are re-sent by the client). A failure leaves them unsubscribed, to be subscribed
   * anew by the next waiter; until then, waiters poll.
   */
  private resubscribe(subscriber: Redis): void {
    const channels = [...this.subscribed].filter((channel) => !this.pending.has(channel));
    if (channels.length === 0) return;
    subscriber.subscribe(...channels).catch((error: Error) => {
      for (const channel of channels) this.subscribed.delete(channel);
      this.onError(error);
    });
  }

  private sweep(): void {
    const now = monotonicNow();
    const idle = [...this.idleSince]
      .filter(([, since]) => now - since >= IDLE_UNSUBSCRIBE_MS)
      .map(([channel]) => channel);
    for (const channel of idle) {
      this.idleSince.delete(channel);
      this.subscribed.delete(channel);
    }
    if (idle.length > 0) this.subscriber?.unsubscribe(...idle).catch(() => undefined);
    if (this.idleSince.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
