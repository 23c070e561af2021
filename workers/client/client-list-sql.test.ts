import { expect, test } from 'bun:test';
import { isRetryableRead } from '../../shared/retrying-reads-adapter.ts';
import { clientListStatement } from './client-list-sql.ts';
import { markedPageStatement } from './page-marks.ts';

const base = { ownerId: '00000000-0000-4000-8000-000000000000', fetch: 21, offset: 0 } as const;

test('input reaches the statement only as bind parameters, never as SQL text', () => {
  const hostile = "x'); DROP TABLE clients; --";
  const statement = clientListStatement({ ...base, sort: 'name', search: hostile, status: 'LEAD' });
  expect(statement.text).not.toContain('DROP');
  expect(statement.values).toContain(`%${hostile}%`);
  expect(statement.values).toContain('LEAD');
});

test('the sort comes from the allow-list, id breaking ties in the same direction', () => {
  expect(clientListStatement({ ...base, sort: '-createdAt' }).text).toContain('ORDER BY created_at DESC, id DESC');
  expect(clientListStatement({ ...base, sort: 'name' }).text).toContain('ORDER BY name ASC, id ASC');
});

test('a plain SELECT: a list that loses its connection is still retried once', () => {
  expect(isRetryableRead(clientListStatement({ ...base, sort: 'createdAt', search: 'a' }).text)).toBe(true);
});

test('a deep page from the page marks is a plain SELECT too, its position only in bind parameters', () => {
  const statement = markedPageStatement({ ownerId: base.ownerId, sort: '-name', offset: 139_980, fetch: 21 });
  expect(isRetryableRead(statement.text)).toBe(true);
  expect(statement.values).toContain(139_980);
  expect(statement.text).toContain('ORDER BY name DESC, id DESC');
});
