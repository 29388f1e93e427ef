import { LONE_SURROGATE, MAX_RESOURCE_BYTES } from '../core/util/arguments.js';
import { InvalidLockKeyError } from '../core/errors/index.js';

/** One `<...>` in a template: where its value comes from. */
interface Placeholder {
  /** As written, e.g. `<dto.customer.id>`. */
  readonly text: string;
  /** The argument's position. */
  readonly index: number;
  /** The property path into that argument, e.g. `['customer', 'id']`. */
  readonly path: readonly string[];
}

/** A template compiled against a method's parameters: arguments in, lock key out. */
export type KeyRenderer = (args: readonly unknown[]) => string;

const PLACEHOLDER = /<([^<>]*)>/g;

/**
 * Compiles a key template such as `order:<id>`, `cart:<dto.customer.id>` or `job:<0>`:
 * a placeholder names a parameter (from `parameterNames`) or a position, then an optional dot
 * path into it. Fails now, naming `where`, the template and the placeholder, if a name is not
 * a parameter; the renderer fails at call time with `InvalidLockKeyError` if a value is
 * missing or not a scalar.
 *
 * Values are percent-encoded (`encodeURIComponent`), so that a value cannot forge another
 * key: with `order:<a>:<b>`, `a = "1:x", b = "y"` and `a = "1", b = "x:y"` give
 * `order:1%3Ax:y` and `order:1:x%3Ay`. Literal text of the template is kept as written
 * (Cluster hash tags such as `{order:<id>}` work).
 */
export function compileKeyTemplate(
  template: string,
  parameterNames: readonly (string | undefined)[],
  where: string,
): KeyRenderer {
  if (typeof template !== 'string' || template.length === 0) {
    throw new TypeError(`${where}: expected a lock key template to be a non-empty string`);
  }
  const literals: string[] = [];
  const placeholders: Placeholder[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    literals.push(template.slice(last, match.index));
    last = match.index! + match[0].length;
    const [head, ...path] = match[1].split('.');
    const index = /^\d+$/.test(head) ? Number(head) : parameterNames.indexOf(head);
    if (head === '' || path.some((segment) => segment === '') || index === -1) {
      const known = parameterNames.filter(Boolean).join(', ') || 'none';
      throw new TypeError(
        `${where}: the lock key template ${JSON.stringify(template)} uses ${match[0]}, but ` +
          `the method has no parameter of that name (its parameters: ${known}). ` +
          'Name a parameter, or use its position, e.g. <0>.',
      );
    }
    placeholders.push({ text: match[0], index, path });
  }
  literals.push(template.slice(last));
  for (const literal of literals)
    assertNoForgottenPlaceholder(literal, template, parameterNames, where);

  return (args) => {
    let key = literals[0];
    placeholders.forEach((placeholder, i) => {
      key += encodeURIComponent(valueOf(template, placeholder, args)) + literals[i + 1];
    });
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes > MAX_RESOURCE_BYTES) {
      const all = placeholders.map((placeholder) => placeholder.text).join(', ');
      throw new InvalidLockKeyError(
        template,
        all,
        `make the key ${bytes} bytes long, over the ${MAX_RESOURCE_BYTES}-byte limit`,
      );
    }
    return key;
  };
}

const INTERPOLATION = /\$\{([^}]*)\}/;
const BRACED_NAME = /\{([A-Za-z_$][\w$]*)((?:\.[\w$-]+)*)\}/g;

/**
 * A template's literal text that looks like a placeholder written another way would lock one
 * literal key for every call: `${id}` (a template literal in single quotes), or `{id}` naming a
 * parameter (a placeholder is `<id>`; a Cluster hash tag around a value is `{<id>}`).
 */
function assertNoForgottenPlaceholder(
  literal: string,
  template: string,
  parameterNames: readonly (string | undefined)[],
  where: string,
): void {
  const interpolation = INTERPOLATION.exec(literal);
  if (interpolation) {
    throw new TypeError(
      `${where}: the lock key template ${JSON.stringify(template)} contains ` +
        `${interpolation[0]}, which only a backtick template literal fills in; here it would ` +
        `lock one literal key for every call. Write the placeholder as <${interpolation[1].trim()}>.`,
    );
  }
  for (const match of literal.matchAll(BRACED_NAME)) {
    if (!parameterNames.includes(match[1])) continue;
    throw new TypeError(
      `${where}: the lock key template ${JSON.stringify(template)} contains ${match[0]}, ` +
        `which is literal text, so every call would lock the same key. Write the placeholder ` +
        `as <${match[1]}${match[2]}> (or {<${match[1]}${match[2]}>} for a Redis Cluster hash ` +
        'tag around the value); for a literal hash tag, pass a function that returns the key.',
    );
  }
}

function valueOf(template: string, placeholder: Placeholder, args: readonly unknown[]): string {
  let value: unknown = args[placeholder.index];
  for (const segment of placeholder.path) {
    if (value === null || value === undefined) break;
    value = (value as Record<string, unknown>)[segment];
  }
  if (value === undefined || value === null) {
    throw new InvalidLockKeyError(template, placeholder.text, `is ${String(value)}`);
  }
  if (!['string', 'number', 'bigint', 'boolean'].includes(typeof value)) {
    throw new InvalidLockKeyError(template, placeholder.text, `is ${typeof value}, not a scalar`);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new InvalidLockKeyError(template, placeholder.text, `is ${value}`);
  }
  const text = String(value);
  if (text === '') throw new InvalidLockKeyError(template, placeholder.text, 'is an empty string');
  // encodeURIComponent would throw a URIError (an HTTP 500) on half a character.
  if (LONE_SURROGATE.test(text)) {
    throw new InvalidLockKeyError(template, placeholder.text, 'has a lone UTF-16 surrogate');
  }
  return text;
}
