/**
 * The names of a function's parameters, read from its source once, when a decorator is
 * applied. A destructured parameter has no name (`undefined`): reach it by position (`<0>`).
 * Minifiers rename parameters; use positions there too.
 */
export function parameterNames(fn: (...args: never[]) => unknown): (string | undefined)[] {
  const source = Function.prototype.toString
    .call(fn)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/[^\n]*/g, '');
  const open = source.indexOf('(');
  const arrowParam = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
  if (arrowParam && (open === -1 || arrowParam.index < open)) return [arrowParam[1]];
  if (open === -1) return [];
  const list = topLevelParameterList(source, open);
  return list.map((parameter) => {
    const name = parameter
      .replace(/^\.\.\./, '')
      .split('=')[0]
      .trim();
    return /^[A-Za-z_$][\w$]*$/.test(name) ? name : undefined;
  });
}

/** The comma-separated parameters between the parenthesis at `open` and its match. */
function topLevelParameterList(source: string, open: number): string[] {
  const parameters: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = open + 1;
  for (let i = open; i < source.length; i++) {
    const char = source[i];
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '(' || char === '{' || char === '[') depth++;
    else if (char === ')' || char === '}' || char === ']') {
      depth--;
      if (depth === 0) {
        parameters.push(source.slice(start, i));
        break;
      }
    } else if (char === ',' && depth === 1) {
      parameters.push(source.slice(start, i));
      start = i + 1;
    }
  }
  return parameters.map((parameter) => parameter.trim()).filter((parameter) => parameter !== '');
}
