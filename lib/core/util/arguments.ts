import { InvalidLockKeyError } from '../errors/invalid-lock-key.error.js';
import { RESERVED_NAMESPACE } from '../scripts/keys.js';

/**
 * Argument checks shared by the engine's entry points. Each throws a `TypeError` or
 * `RangeError` that names the argument, before any network call.
 */

/**
 * A lone UTF-16 surrogate: half of a character. Redis sees UTF-8, where every lone surrogate
 * becomes the same replacement character, so two different names would lock one key.
 */
export const LONE_SURROGATE = /\p{Surrogate}/u;

/** The longest resource name accepted, in bytes (UTF-8). */
export const MAX_RESOURCE_BYTES = 1024;

/** `resources` as a non-empty list of distinct, non-empty strings of at most 1024 bytes. */
export function toResourceList(resources: unknown): readonly string[] {
  // One resource, the common case: no copy, no set.
  if (typeof resources === 'string') {
    assertResource(resources, '`resources`');
    return Object.freeze([resources]);
  }
  if (!Array.isArray(resources)) {
    throw new TypeError(
      `Expected \`resources\` to be a string or an array of strings, got ${typeOf(resources)}`,
    );
  }
  if (resources.length === 0) {
    throw new RangeError('Expected `resources` to name at least one resource, got an empty array');
  }
  resources.forEach((resource: unknown, index: number) =>
    assertResource(resource, `\`resources[${index}]\``),
  );
  return Object.freeze([...new Set(resources as string[])]);
}

/** Checks one resource name; `name` is how the argument is called in the error. */
function assertResource(resource: unknown, name: string): asserts resource is string {
  if (typeof resource !== 'string') {
    throw new TypeError(`Expected ${name} to be a string, got ${typeOf(resource)}`);
  }
  if (resource.length === 0) {
    throw new RangeError(`Expected ${name} to be a non-empty string`);
  }
  if (resource.includes(RESERVED_NAMESPACE)) throw InvalidLockKeyError.reserved(resource, name);
  if (!isWellFormed(resource)) throw InvalidLockKeyError.malformed(resource, name);
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short names need no count.
  if (resource.length * 3 <= MAX_RESOURCE_BYTES) return;
  const bytes = Buffer.byteLength(resource, 'utf8');
  if (bytes > MAX_RESOURCE_BYTES) {
    throw new RangeError(
      `Expected ${name} to be at most ${MAX_RESOURCE_BYTES} bytes, got ${bytes} bytes`,
    );
  }
}

/** Whether `text` has no lone surrogate (`String.prototype.isWellFormed` where there is one). */
function isWellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return native ? native.call(text) : !LONE_SURROGATE.test(text);
}

/**
 * The longest delay a Node.js timer can wait (2^31 − 1 ms, about 24.8 days): a longer one
 * fires after 1 ms. Ttls and delays are bounded by it.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A whole number of milliseconds, at least 1 and at most {@link MAX_TIMER_MS} (a lock's ttl). */
export function assertTtl(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(
      `Expected \`${name}\` to be a positive integer number of milliseconds, got ${show(value)}`,
    );
  }
  assertAtMostTimer(name, value);
}

/** At most {@link MAX_TIMER_MS}: a value that a timer will wait for. */
export function assertAtMostTimer(name: string, value: number): void {
  if (value > MAX_TIMER_MS) {
    throw new RangeError(
      `Expected \`${name}\` to be at most ${MAX_TIMER_MS} ms (2^31 − 1, about 24.8 days, the ` +
        `longest a timer can wait), got ${show(value)}`,
    );
  }
}

/** A whole number no smaller than `min`. */
export function assertInteger(name: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`Expected \`${name}\` to be an integer ≥ ${min}, got ${show(value)}`);
  }
}

/** A finite number no smaller than 0. */
export function assertNonNegative(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`Expected \`${name}\` to be a finite number ≥ 0, got ${show(value)}`);
  }
}

/** A number ≥ 0, `Infinity` allowed (a wait with no bound). */
export function assertDuration(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(
      `Expected \`${name}\` to be a number of milliseconds ≥ 0 (or Infinity), got ${show(value)}`,
    );
  }
}

/** `true` or `false`. */
export function assertBoolean(name: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`Expected \`${name}\` to be true or false, got ${show(value)}`);
  }
}

/** An `AbortSignal`, or nothing. */
export function assertSignal(
  name: string,
  value: unknown,
): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(`Expected \`${name}\` to be an AbortSignal, got ${typeOf(value)}`);
  }
}

/** A plain object (or nothing), for option bags. */
export function assertOptionsObject(name: string, value: unknown): void {
  if (
    value !== undefined &&
    (typeof value !== 'object' || value === null || Array.isArray(value))
  ) {
    throw new TypeError(`Expected \`${name}\` to be an object, got ${typeOf(value)}`);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function show(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return typeOf(value);
}
