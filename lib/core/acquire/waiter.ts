import { monotonicNow } from '../util/clock.js';
import type { RedisNode } from '../nodes/redis-node.js';
import type { NodeClocks } from './node-clocks.js';
import type { NodeVote } from '../errors/node-vote.js';
import { inboxChannel, waiterMember } from '../scripts/keys.js';

/**
 * Why a wait ended: a quorum handed the lock over, a notice says to retry, the subscriptions
 * just came into effect (look again, once: notices before them were missed), or the delay ran
 * out.
 */
export type WaitOutcome = 'handed' | 'woken' | 'subscribed' | 'timeout';

/** What a waiter needs to know (internal). */
export interface WaiterSettings {
  readonly nodes: readonly RedisNode[];
  readonly quorum: number;
  readonly resources: readonly string[];
  /** The ttl a release hands the key over with. */
  readonly handOffTtlMs: number;
  /**
   * Whether the waiter takes the lock itself once handed the keys (fenced, whose grant
   * increments a counter, or several resources, taken all at once): a hand-off only wakes it.
   */
  readonly takesLockItself: boolean;
  /** The Redlock instance's inbox: queued waiters hear their hand-offs on its channels. */
  readonly inbox: string;
  /** The nodes' clocks, which give the waiter its place in the queues. */
  readonly clocks: NodeClocks;
  /** Makes its new value when it renews (a reader's is marked as one). */
  readonly newValue: () => string;
  /**
   * With `takesLockItself`: woken only once a quorum of nodes has told it (a semaphore's
   * waiter, whose attempt needs the slot handed on a quorum), not by the first notice.
   */
  readonly wakeOnQuorum?: boolean;
}

/**
 * One acquisition's wait across the nodes (internal). A waiter queues on each of its resources
 * and listens for its value on each node's channel of each resource for its instance (the
 * inbox): when releases hand it the lock on a quorum of nodes, the wait ends as `handed`; a
 * waiter that takes the lock itself (fenced, or several resources) is `woken` by the first
 * hand-off instead.
 *
 * Its value changes when a failed attempt's grants are dropped (see {@link renew}), so a
 * hand-off announced before that can never be mistaken for one after: only announcements of
 * the current value count. Every announcement of that value comes from a hand-off made after
 * the value was first sent, so a lock handed over is valid from `valueSentAt`.
 */
export class Waiter {
  /** The lock value this waiter is currently known by. */
  value: string;
  /** Its member in the queues: `<hand-off ttl>:<inbox>:<value>`. */
  member: string;
  /** When it began to wait (monotonic ms). */
  readonly startedAt: number;
  /** When the first request carrying the current value was sent (monotonic ms). */
  valueSentAt: number;
  private fixedPriority: number | undefined;
  private readonly handedBy = new Set<RedisNode>();
  /**
   * The nodes that told it since its last attempt began (see `wakeOnQuorum`), with the slot
   * each named, for a semaphore's waiter.
   */
  private readonly wokenBy = new Map<RedisNode, number | undefined>();
  /** Stop listening for the current value. */
  private valueStops: (() => void)[] = [];
  /** A wake-up that came while no wait was under way, for the next wait. */
  private early: 'woken' | 'subscribed' | undefined;
  /** Whether the look once subscribed was given (once per acquisition). */
  private lookedOnSubscribe = false;
  private listening = false;
  private onEvent: ((outcome: WaitOutcome) => void) | undefined;

  /**
   * @param value the lock value it starts with.
   * @param startedAt when its acquisition began (monotonic ms), which orders it in the queues.
   */
  constructor(
    private readonly settings: WaiterSettings,
    value: string,
    startedAt = monotonicNow(),
  ) {
    this.value = value;
    this.member = this.memberOf(value);
    this.startedAt = startedAt;
    this.valueSentAt = startedAt;
  }

  /**
   * Its place in the queues: when it began to wait, on the nodes' clocks (see
   * {@link NodeClocks}); fixed once known, so it keeps its place. `undefined` until a node's
   * clock is known: each node then places it by its own clock, and keeps that place until the
   * priority is known.
   */
  get priority(): number | undefined {
    this.fixedPriority ??= this.settings.clocks.priorityAt(this.startedAt);
    return this.fixedPriority;
  }

  /**
   * Starts listening (once), before the first attempt is sent: a hand-off to the waiter can
   * follow that attempt at once.
   */
  listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.listenForValue();
  }

  /** Called as an attempt starts: notices before it are moot. */
  attempting(): void {
    this.early = undefined;
    this.wokenBy.clear();
  }

  /**
   * Makes sure the notices it listens for are subscribed to. When a subscription was not yet
   * in effect, notices published before it were missed: once every one is, the waiter is
   * woken (`subscribed`) to look again, once per acquisition, so a subscription that keeps
   * failing cannot make it spin.
   */
  subscribe(): void {
    const pending: Promise<void>[] = [];
    for (const node of this.settings.nodes) {
      for (const resource of this.settings.resources) {
        const subscribing = node.notices?.subscribe(this.channel(node, resource));
        if (subscribing) pending.push(subscribing);
      }
    }
    if (pending.length === 0 || this.lookedOnSubscribe) return;
    this.lookedOnSubscribe = true;
    void Promise.all(pending).then(() => this.signal('subscribed'));
  }

  /**
   * Takes a new value (after dropping the grants of the old one, which `sentAt` is the send
   * time of the request that does so): announcements of the old value no longer count.
   */
  renew(sentAt: number): { previousMember: string } {
    const previousMember = this.member;
    this.value = this.settings.newValue();
    this.member = this.memberOf(this.value);
    this.valueSentAt = sentAt;
    this.handedBy.clear();
    if (this.listening) this.listenForValue();
    return { previousMember };
  }

  /**
   * The slot of a semaphore that the most nodes told this waiter they handed it since its
   * last attempt began (the lowest on a tie), if any did.
   */
  handedSlot(): number | undefined {
    const counts = new Map<number, number>();
    let best: number | undefined;
    for (const slot of this.wokenBy.values()) {
      if (slot === undefined) continue;
      const count = (counts.get(slot) ?? 0) + 1;
      counts.set(slot, count);
      const bestCount = best === undefined ? 0 : counts.get(best)!;
      if (count > bestCount || (count === bestCount && slot < best!)) best = slot;
    }
    return best;
  }

  /** Whether a quorum of counting nodes has announced a hand-off of the current value. */
  handedByQuorum(): boolean {
    let counted = 0;
    for (const node of this.handedBy) if (node.uncountedReason() === undefined) counted++;
    return counted >= this.settings.quorum;
  }

  /**
   * Each node's part in the hand-off of the current value, in node order: `for` if it announced
   * it, `not counted` if its vote does not count, `pending` if it has not announced it.
   */
  handOffVotes(): NodeVote[] {
    return this.settings.nodes.map((node): NodeVote => {
      if (!this.handedBy.has(node)) return { node: node.label, vote: 'pending' };
      const error = node.uncountedReason();
      return error
        ? { node: node.label, vote: 'not counted', error }
        : { node: node.label, vote: 'for' };
    });
  }

  /**
   * Waits for the lock to be handed over or a notice to retry; otherwise until its channels
   * have been silent for `delayMs`, and not past `latestAt` (monotonic ms). While others that
   * it hears of (waiters of its own instance) are served, notices keep coming and the fallback
   * attempt is put off; a lost notice of this waiter's own turn is followed by silence, so it
   * costs at most one delay. Rejects with the reason of the first of `signals` to abort.
   * Leaves no timer or listener behind.
   */
  wait(
    delayMs: number,
    latestAt: number,
    signals: readonly (AbortSignal | undefined)[],
  ): Promise<WaitOutcome> {
    if (this.handedByQuorum()) return Promise.resolve('handed');
    if (this.early) return Promise.resolve(this.early);
    return new Promise((resolve, reject) => {
      const aborted = signals.find((signal) => signal?.aborted);
      if (aborted) {
        reject(aborted.reason);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const arm = (from: number) => {
        const now = monotonicNow();
        const ms = Math.min(from + delayMs, latestAt) - now;
        if (ms <= 0) {
          finish();
          resolve('timeout');
          return;
        }
        // Checked when it fires, not re-armed by every notice: one timer per wait.
        timer = setTimeout(() => arm(Math.max(now + ms - delayMs, this.lastNoticeAt())), ms);
      };
      const finish = () => {
        clearTimeout(timer);
        this.onEvent = undefined;
        for (const signal of signals) signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (event: Event) => {
        finish();
        reject((event.target as AbortSignal).reason);
      };
      this.onEvent = (outcome) => {
        finish();
        resolve(outcome);
      };
      for (const signal of signals) signal?.addEventListener('abort', onAbort, { once: true });
      arm(monotonicNow());
    });
  }

  /** Stops listening. */
  stop(): void {
    for (const stop of this.valueStops) stop();
    this.valueStops = [];
    this.onEvent = undefined;
  }

  /** When the last notice on any of its channels arrived (monotonic ms), or 0. */
  private lastNoticeAt(): number {
    let last = 0;
    for (const node of this.settings.nodes) {
      for (const resource of this.settings.resources) {
        const at = node.notices?.lastNoticeAt(this.channel(node, resource)) ?? 0;
        if (at > last) last = at;
      }
    }
    return last;
  }

  /** Its queue member under `value`. */
  private memberOf(value: string): string {
    return waiterMember(value, this.settings.handOffTtlMs, this.settings.inbox);
  }

  /** Where it hears of `resource` on `node`: its instance's inbox channel. */
  private channel(node: RedisNode, resource: string): string {
    return inboxChannel(node.keyPrefix, resource, this.settings.inbox);
  }

  /** Listens, on each node and each resource, for hand-offs of the current value only. */
  private listenForValue(): void {
    for (const stop of this.valueStops) stop();
    const value = this.value;
    this.valueStops = this.settings.nodes.flatMap((node) =>
      this.settings.resources.flatMap((resource) => {
        const channel = this.channel(node, resource);
        const stop = node.notices?.listen(
          channel,
          (message) => this.onNotice(node, message),
          value,
        );
        return stop ? [stop] : [];
      }),
    );
  }

  /**
   * A notice of this waiter's value: the lock handed over, or its turn to take it (a
   * semaphore's names the slot handed: `<value>@<slot>`).
   */
  private onNotice(node: RedisNode, message: string): void {
    const at = message.indexOf('@');
    if ((at < 0 ? message : message.slice(0, at)) !== this.value) return;
    if (!this.settings.takesLockItself) {
      // Judged when it arrives: a hand-off made while the node's votes do not count (it may
      // have restarted without the keys of valid locks) never counts, not even later.
      if (node.uncountedReason() !== undefined) return;
      this.handedBy.add(node);
      if (this.handedByQuorum()) this.signal('handed');
    } else if (this.settings.wakeOnQuorum) {
      const slot = at < 0 ? Number.NaN : Number(message.slice(at + 1));
      this.wokenBy.set(node, Number.isInteger(slot) ? slot : undefined);
      if (this.wokenBy.size >= this.settings.quorum) this.signal('woken');
    } else {
      this.signal('woken');
    }
  }

  private signal(outcome: WaitOutcome): void {
    if (this.onEvent) this.onEvent(outcome);
    else if (outcome === 'woken') this.early = 'woken';
    else if (outcome === 'subscribed') this.early ??= 'subscribed';
  }
}
