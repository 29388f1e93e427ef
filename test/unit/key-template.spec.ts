import { describe, expect, it } from '@jest/globals';
import { InvalidLockKeyError } from '../../lib/core/errors/index.js';
import { compileKeyTemplate } from '../../lib/keys/key-template.js';
import { parameterNames } from '../../lib/keys/parameter-names.js';

describe('parameterNames', () => {
  class Sample {
    async method(id: string, /* a comment, with commas */ count = 3, ...rest: unknown[]) {
      return [id, count, rest];
    }
    destructured({ a }: { a: string }, [b]: string[], last: string) {
      return [a, b, last];
    }
    defaults(text = 'a,(b)', options = { x: [1, 2] }) {
      return [text, options];
    }
  }

  it('reads names, skipping comments, defaults and rest markers', () => {
    expect(parameterNames(Sample.prototype.method)).toEqual(['id', 'count', 'rest']);
    expect(parameterNames(Sample.prototype.defaults)).toEqual(['text', 'options']);
  });

  it('has no name for a destructured parameter, but keeps positions', () => {
    expect(parameterNames(Sample.prototype.destructured)).toEqual([undefined, undefined, 'last']);
  });

  it('reads arrow functions and plain functions', () => {
    expect(parameterNames((orderId: string) => orderId)).toEqual(['orderId']);
    expect(parameterNames(async (a: number, b: number) => a + b)).toEqual(['a', 'b']);
    expect(
      parameterNames(function named(x: number) {
        return x;
      }),
    ).toEqual(['x']);
    expect(parameterNames(() => 1)).toEqual([]);
  });
});

describe('compileKeyTemplate', () => {
  const render = (template: string, names: string[], args: unknown[]) =>
    compileKeyTemplate(template, names, 'Test.method')(args);

  it('fills names, paths and positions, and keeps literal text', () => {
    expect(render('order:<id>', ['id'], ['42'])).toBe('order:42');
    expect(
      render('{cart:<dto.customer.id>}:<1>', ['dto', 'step'], [{ customer: { id: 7 } }, 'pay']),
    ).toBe('{cart:7}:pay');
    expect(render('n:<0>:<1>', [], [1n, true])).toBe('n:1:true');
    expect(render('static', [], [])).toBe('static');
  });

  it('encodes values so that separators in them cannot forge a key', () => {
    const keys = [
      render('o:<a>:<b>', ['a', 'b'], ['1:x', 'y']),
      render('o:<a>:<b>', ['a', 'b'], ['1', 'x:y']),
    ];
    expect(keys).toEqual(['o:1%3Ax:y', 'o:1:x%3Ay']);
    expect(render('o:<a>', ['a'], ['<b>%'])).toBe('o:%3Cb%3E%25');
  });

  it('names the class, method and placeholder when a name is not a parameter', () => {
    expect(() => compileKeyTemplate('order:<orderId>', ['id'], 'OrdersService.charge')).toThrow(
      /OrdersService\.charge.*<orderId>.*its parameters: id/,
    );
    expect(() => compileKeyTemplate('order:<>', ['id'], 'X.y')).toThrow(TypeError);
    expect(() => compileKeyTemplate('order:<id.>', ['id'], 'X.y')).toThrow(TypeError);
    expect(() => compileKeyTemplate('', ['id'], 'X.y')).toThrow(TypeError);
  });

  it.each([
    [undefined, /is undefined/],
    [null, /is null/],
    [{}, /object, not a scalar/],
    [Symbol('s'), /symbol, not a scalar/],
    [NaN, /is NaN/],
    ['', /empty string/],
  ])('refuses %p at call time with InvalidLockKeyError', (value, message) => {
    const renderer = compileKeyTemplate('order:<id>', ['id'], 'X.y');
    expect(() => renderer([value])).toThrow(InvalidLockKeyError);
    expect(() => renderer([value])).toThrow(message);
  });

  it('refuses a missing intermediate object on a path', () => {
    const renderer = compileKeyTemplate('c:<dto.customer.id>', ['dto'], 'X.y');
    expect(() => renderer([{}])).toThrow(/<dto\.customer\.id> is undefined/);
  });
});
