import { describe, expect, test } from 'bun:test';
import { clientListCacheField, parseCanonicalClientListQuery } from './client-list-query.ts';

const parse = (query: string) => parseCanonicalClientListQuery(new URLSearchParams(query));

describe('parseCanonicalClientListQuery', () => {
  test('reads plain queries the way the worker does, defaults included', () => {
    expect(parse('')).toEqual({ page: 1, limit: 20, sort: '-createdAt', status: undefined, search: undefined });
    expect(parse('page=2&limit=50&sort=name&status=LEAD&search=%20Acme%20')).toEqual({
      page: 2,
      limit: 50,
      sort: 'name',
      status: 'LEAD',
      search: 'Acme',
    });
    expect(parse('search=%20%20')?.search).toBeUndefined();
  });

  test('anything else is left to the worker (undefined = forward)', () => {
    for (const query of [
      'page=0',
      'page=01',
      'page=1.5',
      'limit=101',
      'limit=abc',
      'sort=password',
      'status=VIP',
      'ownerId=00000000-0000-4000-8000-000000000000',
      'page=1&page=2',
      `search=${'x'.repeat(101)}`,
    ]) {
      expect(parse(query), query).toBeUndefined();
    }
  });

  test('the same parameters give the same cache field whatever their order or defaults', () => {
    const a = parse('limit=20&page=1');
    const b = parse('page=1');
    expect(a && clientListCacheField(a)).toBe(b && clientListCacheField(b));
    expect(clientListCacheField({ page: 1, limit: 20, sort: '-createdAt' })).toBe('[1,20,"-createdAt",null,null]');
  });

  test('case variants of a search share one cache field (A-Z only), in the worker and at the gateway', () => {
    const field = (query: string) => {
      const params = parse(query);
      return params && clientListCacheField(params);
    };
    expect(field('search=ACME')).toBe(field('search=acme'));
    expect(field('search=%20Acme%20Corp')).toBe(field('search=aCME%20corp'));
    expect(field('sort=name&search=acme')).toBe(
      clientListCacheField({ page: 1, limit: 20, sort: 'name', search: 'AcMe' }),
    );
    // Letters whose folding depends on the database's locale stay apart: at worst a second entry.
    expect(field('search=%C3%89cole')).not.toBe(field('search=%C3%A9cole'));
  });
});
