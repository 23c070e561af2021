// On the real stack (PostgreSQL behind PgBouncer in transaction mode): the server connection under a
// running statement is terminated, as a PostgreSQL restart does to every one (57P01). A read is sent
// once more on a fresh connection and answers; a write is not sent again and fails as a connection
// error (503 DB_UNAVAILABLE), never a 500. A statement on a hung connection ends at DB_QUERY_TIMEOUT.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import pg from 'pg';
import { APP_ROLE } from '../tools/stack/app-role.ts';
import { openThroughTestPooler } from '../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../tools/testing/test-stack.ts';
import type { PooledDatabase } from './db.ts';
import { classifyDatabaseFailure } from './db-failures.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let admin: pg.Client;
const warnings: string[] = [];
let database: PooledDatabase;
beforeAll(async () => {
  admin = new pg.Client({ connectionString: testStack().directUrl });
  await admin.connect();
  // A table of this test's own, with one row, that the services' role may write.
  await admin.query(`DROP TABLE IF EXISTS read_retry_probe; CREATE TABLE read_retry_probe (n int);
    INSERT INTO read_retry_probe VALUES (1); GRANT ALL ON read_retry_probe TO ${APP_ROLE}`);
  database = openThroughTestPooler(
    { poolSize: 1, queryTimeoutSeconds: 1.5 },
    { warn: (message) => warnings.push(message), error() {} },
  );
});
afterAll(async () => {
  await database?.close();
  await admin?.query('DROP TABLE IF EXISTS read_retry_probe');
  await admin?.end();
});

/** Terminates the server connection running the statement that contains `marker`, once it runs. */
async function terminateWhenRunning(marker: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
       WHERE state = 'active' AND query LIKE $1 AND query NOT LIKE '%pg_stat_activity%'`,
      [`%${marker}%`],
    );
    if (rows.length > 0) return;
    await Bun.sleep(20);
  }
  throw new Error(`no running statement with ${marker} appeared`);
}

describe('a connection that dies under a statement', () => {
  test('a read is sent once more on a fresh connection and answers', async () => {
    warnings.length = 0;
    const marker = `read_${Date.now()}`;
    // Prisma's queries are lazy: `then` sends it now, while the test looks for it.
    const read = database.prisma
      .$queryRawUnsafe<{ answer: number }[]>(`SELECT 42 AS answer, '${marker}' AS marker, pg_sleep(0.4)::text AS slept`)
      .then((rows) => rows);
    await terminateWhenRunning(marker);
    expect((await read)[0]?.answer).toBe(42);
    expect(warnings.filter((line) => line.includes('sent once more'))).toHaveLength(1);
  });

  test('a write is not sent again: it fails as a connection failure (a 503), not a 500', async () => {
    warnings.length = 0;
    const marker = `write_${Date.now()}`;
    // Through queryRaw, the path reads take: an INSERT ... RETURNING, as Prisma's create sends it.
    const outcome = database.prisma
      .$queryRawUnsafe(`INSERT INTO read_retry_probe SELECT 2 FROM pg_sleep(0.4) WHERE '${marker}' <> '' RETURNING n`)
      .then(
        () => 'applied',
        (error) => classifyDatabaseFailure(error),
      );
    await terminateWhenRunning(marker);
    expect(await outcome).toBe('unavailable');
    expect(warnings.filter((line) => line.includes('sent once more'))).toHaveLength(0);
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM read_retry_probe WHERE n = 2');
    expect(rows[0].n).toBe(0);
  });

  test('a locking read (SELECT ... FOR UPDATE) is not retried either', async () => {
    warnings.length = 0;
    const marker = `lock_${Date.now()}`;
    const read = database.prisma
      .$queryRawUnsafe(`SELECT n, '${marker}' AS marker, pg_sleep(0.4)::text FROM read_retry_probe FOR UPDATE`)
      .then(
        () => 'answered',
        (error) => classifyDatabaseFailure(error),
      );
    await terminateWhenRunning(marker);
    expect(await read).toBe('unavailable');
    expect(warnings).toHaveLength(0);
  });
});

describe('DB_QUERY_TIMEOUT', () => {
  test('a statement that does not answer in time ends, as a connection failure, and the pool recovers', async () => {
    const started = Date.now();
    const outcome = await database.prisma.$queryRawUnsafe('SELECT pg_sleep(10)').then(
      () => 'answered',
      (error) => classifyDatabaseFailure(error),
    );
    expect(outcome).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(4_000);
    // The abandoned connection is not handed out again; the next statement answers.
    const [row] = await database.prisma.$queryRawUnsafe<{ one: number }[]>('SELECT 1 AS one');
    expect(row?.one).toBe(1);
  });
});
