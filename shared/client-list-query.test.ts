import { describe, expect, test } from 'bun:test';
import { clientListCacheField, clientListMeta, parseCanonicalClientListQuery } from './client-list-query.ts';

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
      'after=WzEsIi1jcmVhdGVkQXQiXQ', // a cursor page is always forwarded: the edge never answers one
      'page=1&after=x',
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

describe('cursor pages and the meta', () => {
  test('the worker caches a cursor page under a field of its own; plain pages keep theirs', () => {
    const plain = { page: 1, limit: 20, sort: '-createdAt' as const };
    expect(clientListCacheField(plain)).toBe('[1,20,"-createdAt",null,null]');
    expect(clientListCacheField({ ...plain, after: 'AbC' })).toBe('[1,20,"-createdAt",null,null,"AbC"]');
    expect(clientListCacheField({ ...plain, after: 'AbC' })).not.toBe(clientListCacheField({ ...plain, after: 'abc' }));
  });

  test('meta says how to go on and whether the total is only a lower bound, and nothing when neither', () => {
    expect(clientListMeta({ page: 2, limit: 20 }, { rows: [], total: 45 })).toEqual({
      page: 2,
      limit: 20,
      total: 45,
      totalPages: 3,
    });
    const deep = clientListMeta(
      { page: 1, limit: 20, after: 'c1' },
      {
        rows: [],
        total: 10_000,
        totalIsLowerBound: true,
        next: 'c2',
      },
    );
    expect(deep).toEqual({ limit: 20, total: 10_000, totalPages: 500, totalIsLowerBound: true, next: 'c2' });
  });
});
