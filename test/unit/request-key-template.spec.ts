import { describe, expect, it } from '@jest/globals';
import { InvalidLockKeyError } from '../../lib/core/errors/index.js';
import { requestKeyResolver } from '../../lib/keys/request-key-template.js';

describe('request key templates', () => {
  const request = {
    params: { id: '42' },
    query: { page: '3' },
    body: { order: { id: 'o-1' } },
    headers: { 'x-tenant-id': 'acme' },
    user: { id: 7 },
  };

  it('reads params, query, body paths, headers (any case) and user', () => {
    const resolve = requestKeyResolver(
      [
        'a:<params.id>',
        'b:<query.page>',
        'c:<body.order.id>',
        'd:<headers.X-Tenant-ID>',
        'e:<user.id>',
      ],
      'test',
    );
    expect(resolve(request)).toEqual(['a:42', 'b:3', 'c:o-1', 'd:acme', 'e:7']);
  });

  it('takes a function of the request as it is', () => {
    const resolve = requestKeyResolver((req: typeof request) => `f:${req.params.id}`, 'test');
    expect(resolve(request)).toBe('f:42');
  });

  it('refuses, when made, a placeholder that reads no part of the request', () => {
    expect(() => requestKeyResolver('x:<param.id>', 'lockMiddleware')).toThrow(
      /lockMiddleware.*<param.id>.*params, query, body, headers, user/,
    );
    expect(() => requestKeyResolver([], 'lockMiddleware')).toThrow(TypeError);
  });

  it('throws InvalidLockKeyError for a request without the value', () => {
    const resolve = requestKeyResolver('a:<body.order.id>', 'test');
    expect(() => resolve({ body: {} })).toThrow(InvalidLockKeyError);
    expect(() => resolve({})).toThrow(/<body.order.id> is undefined/);
  });
});
