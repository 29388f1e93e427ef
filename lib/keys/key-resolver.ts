/** What a lock's keys come from: a template, several, or a function of the input. */
export type KeysSpec<Input> =
  string | readonly string[] | ((input: Input) => string | readonly string[]);

/**
 * The one key resolver of the decorators and the middleware: templates compiled now by
 * `compile` (a bad one throws now, naming `where`), or the user's function, called with the
 * input. Answers a function from the input (a method's arguments, a request) to the keys.
 */
export function keyResolver<Input>(
  keys: KeysSpec<Input>,
  compile: (template: string) => (input: Input) => string,
  where: string,
): (input: Input) => string | readonly string[] {
  if (typeof keys === 'function') return keys;
  const templates = typeof keys === 'string' ? [keys] : keys;
  if (!Array.isArray(templates) || templates.length === 0) {
    throw new TypeError(
      `${where}: expected the key to be a template, an array of them, or a function`,
    );
  }
  const renderers = templates.map(compile);
  return (input) => renderers.map((render) => render(input));
}
