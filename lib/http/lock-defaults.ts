/** Defaults shared by the module, the middleware and the HTTP answers, in one place. */

/** The ttl of a lock when neither the call nor the configuration gives one, in milliseconds. */
export const DEFAULT_TTL_MS = 10_000;

/** The HTTP status when too few Redis nodes answer. */
export const DEFAULT_UNAVAILABLE_STATUS = 423;
