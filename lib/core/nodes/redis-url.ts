import type { RedisOptions } from 'ioredis';
import { isIP } from 'node:net';

/**
 * ioredis options of the connections the engine opens. No offline queue, and no re-sending of
 * unanswered commands after a reconnection: a lock command must not land long after its
 * operation was decided (an acquire re-sent after its own clean-up release would leave a stale
 * key for its whole ttl). No disconnect grace: ioredis arms a timer for it even when the
 * socket is already gone, which would outlive `quit()` by 2 s.
 */
export const OWNED_CLIENT_DEFAULTS: RedisOptions = Object.freeze({
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  disconnectTimeout: 0,
});

/** Parses `redis://[user:password@]host[:port][/db]` and `rediss://...` into ioredis options. */
export function parseRedisUrl(url: string, argument = 'url'): RedisOptions {
  // A password with an unencoded '/', '?' or '#' cuts the authority short: the rest of it
  // would be read as the host, the path (shown in errors) and so on.
  const slashes = url.indexOf('//');
  const authorityEnd = slashes === -1 ? -1 : url.slice(slashes + 2).search(/[/?#]/);
  if (authorityEnd !== -1 && url.indexOf('@', slashes + 2 + authorityEnd) !== -1) {
    throw new TypeError(
      `Expected \`${argument}\` to be a redis:// or rediss:// URL with its user and password ` +
        `percent-encoded (encodeURIComponent): ${JSON.stringify(redact(url))} has an '@' after ` +
        "a '/', '?' or '#', as when a password contains one of them unencoded",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `Expected \`${argument}\` to be a redis:// or rediss:// URL, got ${JSON.stringify(redact(url))}`,
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(
      `Expected \`${argument}\` to use the redis: or rediss: scheme, got ${JSON.stringify(parsed.protocol)}`,
    );
  }
  if (!parsed.hostname) {
    throw new TypeError(
      `Expected \`${argument}\` to name a host, got ${JSON.stringify(redact(url))}`,
    );
  }
  const options: RedisOptions = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 6379,
    ...OWNED_CLIENT_DEFAULTS,
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const path = parsed.pathname.replace(/^\//, '');
  if (path) {
    if (!/^\d+$/.test(path)) {
      throw new TypeError(
        `Expected the path of \`${argument}\` to be a database number, got ${JSON.stringify(path)}`,
      );
    }
    options.db = Number(path);
  }
  // SNI names hosts only: Node deprecates a servername that is an IP address (DEP0123).
  if (parsed.protocol === 'rediss:') {
    options.tls = isIP(options.host!) === 0 ? { servername: options.host } : {};
  }
  return options;
}

/** The URL with everything up to its last '@' (user and password, encoded or not) hidden. */
function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:).*@/is, '$1***@');
}
