import { compileKeyTemplate } from './key-template.js';
import { keyResolver, type KeysSpec } from './key-resolver.js';

/** The parts of an HTTP request that a key template can read. */
const REQUEST_PARTS = ['params', 'query', 'body', 'headers', 'user'] as const;

/** What a request template reads: Express, Fastify and Nest requests all have this shape. */
export interface RequestLike {
  /** Route parameters, `<params.id>`. */
  params?: unknown;
  /** The query string, parsed, `<query.x>`. */
  query?: unknown;
  /** The parsed body, `<body.a.b>`. */
  body?: unknown;
  /** The headers, lower-cased, `<headers.x-tenant-id>`. */
  headers?: unknown;
  /** The authenticated user (set by Passport and the like), `<user.id>`. */
  user?: unknown;
}

/** A request template compiled: request in, lock key out. */
type RequestKeyRenderer = (request: RequestLike) => string;

/**
 * Compiles a key template over a request: `<params.id>`, `<query.x>`, `<body.orderId>`,
 * `<headers.x-tenant-id>` (header names are case-insensitive), `<user.id>`. Fails now, naming
 * `where`, if a placeholder reads anything else; the renderer throws `InvalidLockKeyError`
 * when the request lacks a value (answer 400). Values are encoded as in `compileKeyTemplate`.
 */
function compileRequestKeyTemplate(template: string, where: string): RequestKeyRenderer {
  const normalised =
    typeof template === 'string'
      ? template.replace(
          /<headers\.([^<>]*)>/gi,
          (_, name: string) => `<headers.${name.toLowerCase()}>`,
        )
      : template;
  const render = compileKeyTemplate(normalised, REQUEST_PARTS, where);
  return (request) => render(REQUEST_PARTS.map((part) => request[part]));
}

/** What to lock for a request: templates over it, several, or a function of it. */
export type RequestKeys =
  string | readonly string[] | ((request: never) => string | readonly string[]);

/** Keys from a request: templates compiled now (bad ones throw now), or the user's function. */
export function requestKeyResolver(
  keys: RequestKeys,
  where: string,
): (request: RequestLike) => string | readonly string[] {
  return keyResolver<RequestLike>(
    keys as KeysSpec<RequestLike>,
    (template) => compileRequestKeyTemplate(template, where),
    where,
  );
}
