// On the real stack (PostgreSQL behind PgBouncer in transaction mode): a statement of an interactive
// transaction that outlives DB_QUERY_TIMEOUT. It is cancelled on the server (cancelling-pg-client.ts)
// and the transaction ends; the pooled connection must not go back to the pool while anything still
// runs on it, or the next request's statement queues behind it and times out too (as it did with pg's
// own query_timeout, before timed-out-transactions-adapter.ts).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { openThroughTestPooler } from '../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';
import type { PooledDatabase } from './db.ts';
import { classifyDatabaseFailure } from './db-failures.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let database: PooledDatabase;
beforeAll(() => {
  database = openThroughTestPooler({ poolSize: 1, queryTimeoutSeconds: 1 });
});
afterAll(async () => {
  await database?.close();
});

describe('a transaction statement past DB_QUERY_TIMEOUT', () => {
  test('fails as a connection failure, and the next query on the one pooled connection answers at once', async () => {
    // Three times: each abandoned connection must be replaced, not just the first.
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = performance.now();
      const outcome = await database.prisma
        .$transaction(async (tx) => tx.$queryRawUnsafe('SELECT pg_sleep(4)'), { timeout: 10_000 })
        .then(
          () => 'answered',
          (error: unknown) => classifyDatabaseFailure(error),
        );
      expect(outcome).toBe('unavailable');
      expect(performance.now() - started).toBeLessThan(3_000);
      // Before the fix this statement waited behind the sleep on the same connection and timed out.
      const next = performance.now();
      const rows = await database.prisma.$queryRawUnsafe<{ one: number }[]>('SELECT 1 AS one');
      expect(rows[0]?.one).toBe(1);
      expect(performance.now() - next).toBeLessThan(900);
    }
    expect(database.pool.totalCount).toBeLessThanOrEqual(1);
  });
});
