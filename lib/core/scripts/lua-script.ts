import { createHash } from 'node:crypto';

/** A Lua script with its SHA1, for EVALSHA with an EVAL fallback on NOSCRIPT. */
export interface LuaScript {
  /** What the script is for, in error messages. */
  readonly name: string;
  /** The Lua source. */
  readonly source: string;
  /** SHA1 of `source`, as Redis names it. */
  readonly sha: string;
  /**
   * Whether it takes or prolongs a hold (acquire, extend) rather than giving one up (release).
   * Its NOSCRIPT fallback is skipped once the operation is decided: a late acquire could land
   * after the release that followed it (another client may have loaded the release script
   * meanwhile, so that release did not fail in turn); a node's votes for it may be vetoed.
   */
  readonly takesHold: boolean;
  /**
   * Set on the one script that is sent as the single Redis command it stands for, so that the
   * node runs no Lua at all (`SET_IF_ABSENT`).
   */
  readonly command?: 'set-if-absent';
}

/** Makes a {@link LuaScript} from its name and source. */
export function luaScript(name: string, source: string, takesHold: boolean): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return Object.freeze({ name, source, sha, takesHold });
}

/** Lua: the node's time in milliseconds from the reply `time` of a TIME call. */
export const LUA_TIME_MS = 'tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)';

/** Lua: whether decimal string a is greater than decimal string b (no leading zeros). */
export const LUA_GREATER = `local function greater(a, b)
  return #a > #b or (#a == #b and a > b)
end
`;

/**
 * Runs a script by EVALSHA and, when the node does not have it (NOSCRIPT: a restart, a SCRIPT
 * FLUSH), by EVAL, which also loads it again. `mayFallBack` is asked before the EVAL: a hold
 * must not be sent once its operation was decided. The one place of the fallback.
 */
export function evalWithFallback<Reply>(
  evalsha: () => Promise<Reply>,
  evalSource: () => Promise<Reply>,
  mayFallBack: () => boolean = () => true,
): Promise<Reply> {
  // A plain promise chain, not an async function: this runs for every command of every vote,
  // and each await would add promise hops on the hot path.
  return evalsha().catch((error: unknown) => {
    if (!isNoScript(error) || !mayFallBack()) throw error;
    return evalSource();
  });
}

function isNoScript(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith('NOSCRIPT');
}
