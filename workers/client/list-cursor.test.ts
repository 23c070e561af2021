import { expect, test } from 'bun:test';
import { decodeListCursor, encodeListCursor } from './list-cursor.ts';

const row = {
  id: '0b7e1c52-4a5e-4c55-9f3e-2f6f1d7a9c01',
  name: 'Ünïcode "quoted" name',
  createdAt: '2026-11-28T10:40:00.123Z',
};

test('a cursor round-trips the sort key of its sort and the id', () => {
  expect(decodeListCursor(encodeListCursor('-createdAt', row), '-createdAt')).toEqual({
    value: row.createdAt,
    id: row.id,
  });
  expect(decodeListCursor(encodeListCursor('name', row), 'name')).toEqual({ value: row.name, id: row.id });
  expect(encodeListCursor('-name', row)).toMatch(/^[A-Za-z0-9_-]+$/); // safe in a URL as it is
});

test('a cursor of another sort, or one we did not write, is a 400 VALIDATION_FAILED', () => {
  const bad = (cursor: string, sort: 'name' | 'createdAt' = 'createdAt') => {
    try {
      decodeListCursor(cursor, sort);
    } catch (error) {
      return { code: (error as { code: string }).code, status: (error as { statusCode: number }).statusCode };
    }
    return 'accepted';
  };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  expect(bad(encodeListCursor('name', row))).toEqual({ code: 'VALIDATION_FAILED', status: 400 });
  for (const cursor of [
    'not base64 json',
    encode({ a: 1 }),
    encode([2, 'createdAt', row.createdAt, row.id]), // another version
    encode([1, 'createdAt', '2026-13-45T00:00:00.000Z', row.id]), // no such date: never reaches SQL
    encode([1, 'createdAt', row.createdAt, "1' OR '1'='1"]),
  ]) {
    expect(bad(cursor), cursor).toEqual({ code: 'VALIDATION_FAILED', status: 400 });
  }
  expect(bad(encode([1, 'name', 42, row.id]), 'name')).toEqual({ code: 'VALIDATION_FAILED', status: 400 });
});
