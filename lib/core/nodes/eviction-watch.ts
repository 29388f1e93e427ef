import { NodeMayEvictError } from '../errors/index.js';
import { RedlockWarning } from '../redlock-warning.js';

/** What to do with a node that may evict keys (see `RedlockOptions.evictingNodes`). */
export type EvictingNodes = 'refuse' | 'warn';

/** What an {@link EvictionWatch} needs from its node (internal). */
export interface EvictionWatchSettings {
  /** The node, as `host:port`. */
  readonly label: string;
  /** Refuse the node's votes for a hold, or only warn. */
  readonly evictingNodes: EvictingNodes;
  /** Told once each time the node is found able to evict. */
  readonly onWarning: (warning: RedlockWarning) => void;
}

/**
 * Reads a node's `maxmemory` and `maxmemory_policy` from its INFO, and tells whether it may
 * evict keys: with `maxmemory` set, every policy but `noeviction` can evict lock keys, the
 * `volatile-*` ones too, since lock keys carry a ttl. A lock key evicted while held lets a
 * second holder in, so such a node's votes for a hold do not count unless the user says so.
 */
export class EvictionWatch {
  /** The policy, while the node may evict; `undefined` when it may not (or is not known to). */
  private policy: string | undefined;

  constructor(private readonly settings: EvictionWatchSettings) {}

  /** Reads the memory section of an INFO reply (at each connection, and on health checks). */
  read(info: string): void {
    const maxmemory = Number(/^maxmemory:(\d+)/m.exec(info)?.[1] ?? 0);
    const policy = /^maxmemory_policy:([\w-]+)/m.exec(info)?.[1];
    const evicting = maxmemory > 0 && policy !== undefined && policy !== 'noeviction';
    const before = this.policy;
    this.policy = evicting ? policy : undefined;
    if (!evicting || before === policy) return;
    const { label, evictingNodes } = this.settings;
    this.settings.onWarning(
      new RedlockWarning(
        'NODE_MAY_EVICT',
        label,
        `it may evict lock keys while they are held (maxmemory ${maxmemory} bytes, ` +
          `maxmemory-policy ${policy}), and a second holder could then be granted the lock. ` +
          (evictingNodes === 'refuse'
            ? "Its votes do not count (evictingNodes: 'refuse'). "
            : "Its votes count all the same (evictingNodes: 'warn'). ") +
          'Fix: `CONFIG SET maxmemory-policy noeviction` on it (and in its config file), or ' +
          'a Redis used only for locks.',
      ),
    );
  }

  /** Whether the node was last seen able to evict. */
  get mayEvict(): boolean {
    return this.policy !== undefined;
  }

  /** Why the node's vote for a hold must not count, or `undefined` if it counts. */
  uncountedReason(): NodeMayEvictError | undefined {
    if (this.policy === undefined || this.settings.evictingNodes !== 'refuse') return undefined;
    return new NodeMayEvictError(this.settings.label, this.policy);
  }

  /** A warning for health reports while the node may evict but its votes count. */
  healthWarning(): string | undefined {
    if (this.policy === undefined || this.settings.evictingNodes === 'refuse') return undefined;
    return `may evict lock keys (maxmemory-policy ${this.policy}); set maxmemory-policy noeviction`;
  }
}
