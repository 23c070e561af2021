import { expect, test } from 'bun:test';
import { describeStuckBackends } from './stuck-backends.ts';

// Lines as the bench's ring holds them (PgBouncer 1.18's and PostgreSQL's own formats, from a catch).
const log = [
  'pgbouncer: 2026-11-29 09:27:10.100 UTC [10013] LOG S-0x52b0: db/app@127.0.0.1:39035 new connection to server (from 127.0.0.1:34000)',
  'postgres: 2026-11-29 09:27:10.101 UTC [10200] [unknown]@[unknown] LOG:  connection received: host=127.0.0.1 port=34000',
  'postgres: 2026-11-29 09:27:12.000 UTC [10200] app@db LOG:  disconnection: session time: 0:00:01.9 user=app database=db host=127.0.0.1 port=34000',
  'pgbouncer: 2026-11-29 09:27:17.100 UTC [10013] LOG S-0x52b0: db/app@127.0.0.1:39035 new connection to server (from 127.0.0.1:34836)',
  'postgres: 2026-11-29 09:27:17.105 UTC [10313] [unknown]@[unknown] LOG:  connection received: host=127.0.0.1 port=34836',
  'postgres: 2026-11-29 09:27:17.110 UTC [10313] app@db LOG:  connection authorized: user=app database=db',
  'pgbouncer: 2026-11-29 09:27:24.662 UTC [10013] LOG S-0x73f0: db/app@127.0.0.1:39035 closing because: successfully sent cancel request (age=0s)',
  'pgbouncer: 2026-11-29 09:27:25.692 UTC [10013] LOG S-0x52b0: db/app@127.0.0.1:39035 closing because: client disconnect while server was not ready (age=8s)',
  'postgres: 2026-11-29 09:27:26.293 UTC [10313] app@db LOG:  disconnection: session time: 0:00:09.187 user=app database=db host=127.0.0.1 port=34836',
];

test('names the backend behind the server PgBouncer gave up on, by the last connection under its address', () => {
  const asked: number[] = [];
  const lines = describeStuckBackends(log, (pid) => {
    asked.push(pid);
    return ['at 2.50 s: idle, on CPU'];
  });
  expect(asked).toEqual([10313]);
  expect(lines[0]).toBe("stuck server S-0x52b0: PgBouncer's port 34836, PostgreSQL backend 10313");
  expect(lines[1]).toBe('  backend 10313: at 2.50 s: idle, on CPU');
  expect(lines.filter((line) => line.includes('[10313]'))).toHaveLength(3);
  expect(lines.some((line) => line.includes('[10200]'))).toBe(false);
});

test('says so when the connection cannot be traced, and reports nothing when no server was given up', () => {
  const closingOnly = log.slice(7, 8);
  expect(describeStuckBackends(closingOnly, () => [])).toEqual([
    "stuck server S-0x52b0: PgBouncer's port ?, PostgreSQL backend not found",
  ]);
  expect(describeStuckBackends(log.slice(0, 7), () => [])).toEqual([]);
});
