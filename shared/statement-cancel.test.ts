// DB_QUERY_TIMEOUT on the real stack: PostgreSQL behind its own transaction-mode PgBouncer with a pool
// of ONE server connection, so any backend beyond it is one a timed-out statement left running. A
// statement past the timeout is cancelled on the server (shared/cancelling-pg-client.ts): it fails
// as a 503-class failure, stops running on PostgreSQL, and the next statement gets the pool's one
// server connection at once, never a second. With pg's own query_timeout the sleep went on running
// and PgBouncer opened a second server connection beside it.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import pg from 'pg';
import { type RunningPgBouncer, startPgBouncer } from '../tools/stack/pgbouncer.ts';
import { createDatabase, dropDatabase } from '../tools/stack/postgres.ts';
import { clientBackends, peakWhile } from '../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../tools/testing/test-stack.ts';
import { CANCEL_GRACE_MS, cancellingClient, StatementTimedOut } from './cancelling-pg-client.ts';
import { buildPooledDatabaseConfig, openPooledDatabase, type PooledDatabase } from './db.ts';
import { classifyDatabaseFailure } from './db-failures.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const TIMEOUT_SECONDS = 1;
/** Longer than the timeout by far: a sleep still running later was not cancelled. */
const SLEEP = 'SELECT pg_sleep(6)';

let databaseName: string;
let pooler: RunningPgBouncer;
let database: PooledDatabase;
let observer: pg.Client;

beforeAll(async () => {
  const stack = testStack();
  databaseName = `${stack.databaseName}_cancel`;
  await createDatabase(stack.postgres, databaseName);
  pooler = await startPgBouncer({
    upstream: stack.postgres,
    databases: [databaseName],
    poolMode: 'transaction',
    poolSize: 1,
    maxClientConn: 20,
  });
  database = openPooledDatabase(
    buildPooledDatabaseConfig({
      databaseUrl: pooler.urlFor(databaseName),
      poolMode: 'transaction',
      poolSize: 2,
      poolTimeoutSeconds: 5,
      queryTimeoutSeconds: TIMEOUT_SECONDS,
    }),
    { warn() {}, error() {} },
  );
  observer = new pg.Client({ connectionString: stack.postgres.urlFor('postgres') });
  await observer.connect();
  // Prisma's start and the first connections through the pooler, outside any timed statement.
  await database.prisma.$queryRawUnsafe('SELECT 1');
}, 60_000);

// A test that failed may have left a sleep on the pool's one server connection; the next must not
// wait behind it.
afterEach(async () => {
  pooler.signal('SIGCONT');
  await observer.query(
    "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()",
    [databaseName],
  );
});

afterAll(async () => {
  await database?.close();
  await observer?.end();
  await pooler?.stop();
  if (databaseName) await dropDatabase(testStack().postgres, databaseName);
});

const backends = () => clientBackends(observer, databaseName);

const sleepsRunning = async () =>
  (
    await observer.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query = $2",
      [databaseName, SLEEP],
    )
  ).rows[0].n as number;

/** The most backends seen on the database (every 10 ms) while `work` runs. */
async function peakBackendsDuring(work: () => Promise<void>): Promise<number> {
  return (await peakWhile(backends, work)).peak;
}

/** Runs `statement` (which outlives the timeout), then checks what is left of it. */
async function timesOutAndIsGone(statement: () => Promise<unknown>) {
  const started = performance.now();
  const outcome = await statement().then(
    () => 'answered',
    (error: unknown) => classifyDatabaseFailure(error),
  );
  const took = performance.now() - started;
  expect(outcome).toBe('unavailable');
  // Answered at the timeout plus a cancel round trip, before the grace for a silent server could end.
  expect(took).toBeGreaterThan(TIMEOUT_SECONDS * 1000 - 50);
  expect(took).toBeLessThan(TIMEOUT_SECONDS * 1000 + CANCEL_GRACE_MS - 100);
  // The statement stopped on PostgreSQL, not when its sleep would have ended.
  expect(await sleepsRunning()).toBe(0);
  // The pool's one server connection answers the next statement at once.
  const next = performance.now();
  const rows = await database.prisma.$queryRawUnsafe<{ one: number }[]>('SELECT 1 AS one');
  expect(rows[0]?.one).toBe(1);
  expect(performance.now() - next).toBeLessThan(500);
}

describe('a statement past DB_QUERY_TIMEOUT is cancelled on the server', () => {
  test('a plain statement, three times: never more backends than the pooler’s pool of one', async () => {
    const peak = await peakBackendsDuring(async () => {
      for (let attempt = 0; attempt < 3; attempt++)
        await timesOutAndIsGone(() => database.prisma.$queryRawUnsafe(SLEEP));
    });
    expect(peak).toBe(1);
  }, 20_000);

  test('a statement in an interactive transaction: the transaction ends, nothing keeps running', async () => {
    const serverPid = async () =>
      (await database.prisma.$queryRawUnsafe<{ pid: number }[]>('SELECT pg_backend_pid() AS pid'))[0]?.pid;
    const before = await serverPid();
    const peak = await peakBackendsDuring(async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        await timesOutAndIsGone(() =>
          database.prisma.$transaction(async (tx) => tx.$queryRawUnsafe(SLEEP), { timeout: 10_000 }),
        );
      }
    });
    expect(peak).toBe(1);
    // The cancelled transaction was rolled back on its connection, not closed under it: PgBouncer kept
    // its one server connection (a client gone mid-transaction makes it close that one and open another).
    expect(await serverPid()).toBe(before);
    // No transaction left open on the server either.
    const { rows } = await observer.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
      [databaseName],
    );
    expect(rows[0].n).toBe(0);
  }, 20_000);

  test('a statement still in PgBouncer’s queue when its time is up is cancelled once it gets the server', async () => {
    // Another client holds the pool's one server connection past our timeout: our cancel then finds
    // the statement waiting, not running, and PgBouncer drops it; the cancel is sent again until the
    // statement, started when the server came free, has ended.
    const blocker = new pg.Client({ connectionString: pooler.urlFor(databaseName) });
    await blocker.connect();
    try {
      let ourStart = 0;
      let blockerEnd = 0;
      const peak = await peakBackendsDuring(async () => {
        const holding = blocker.query('SELECT pg_sleep(1.25)').then(() => {
          blockerEnd = performance.now();
        });
        await Bun.sleep(50);
        ourStart = performance.now();
        await timesOutAndIsGone(() => database.prisma.$queryRawUnsafe(SLEEP));
        await holding;
      });
      expect(peak).toBe(1);
      // The case under test happened: ours was still queued behind the blocker when its time was up.
      expect(blockerEnd - ourStart).toBeGreaterThan(TIMEOUT_SECONDS * 1000);
    } finally {
      await blocker.end();
    }
  }, 20_000);

  test('a statement the server itself cancels (statement_timeout, as managed platforms set per role) is a 503-class failure, not a 500', async () => {
    const outcome = await database.prisma
      .$transaction(async (tx) => {
        await tx.$executeRawUnsafe("SET LOCAL statement_timeout = '200ms'");
        return tx.$queryRawUnsafe('SELECT pg_sleep(0.9)');
      })
      .then(
        () => 'answered',
        (error: unknown) => classifyDatabaseFailure(error),
      );
    expect(outcome).toBe('unavailable');
  });

  test('a pooler that stops answering (SIGSTOP): the statement still fails, after the grace, and the pool recovers', async () => {
    await database.prisma.$queryRawUnsafe('SELECT 1');
    pooler.signal('SIGSTOP');
    let resumed = false;
    try {
      const started = performance.now();
      const outcome = await database.prisma.$queryRawUnsafe('SELECT 1').then(
        () => 'answered',
        (error: unknown) => classifyDatabaseFailure(error),
      );
      const took = performance.now() - started;
      expect(outcome).toBe('unavailable');
      expect(took).toBeGreaterThan(TIMEOUT_SECONDS * 1000 + CANCEL_GRACE_MS - 50);
      expect(took).toBeLessThan(TIMEOUT_SECONDS * 1000 + CANCEL_GRACE_MS + 1_000);
      pooler.signal('SIGCONT');
      resumed = true;
      // The connection that timed out was closed, not lent again: the next statements answer.
      for (let i = 0; i < 3; i++) {
        const rows = await database.prisma.$queryRawUnsafe<{ one: number }[]>('SELECT 1 AS one');
        expect(rows[0]?.one).toBe(1);
      }
    } finally {
      if (!resumed) pooler.signal('SIGCONT');
    }
  }, 20_000);

  test('a transaction whose statement gets no answer to its cancel (SIGSTOP): its connection is closed, not lent again', async () => {
    // One pooled connection, so the next statement can only get that one back or a fresh one. Left to
    // the pool, it would queue behind the abandoned sleep, which runs once the pooler resumes
    // (shared/timed-out-transactions-adapter.ts closes it instead).
    const single = openPooledDatabase(
      buildPooledDatabaseConfig({
        databaseUrl: pooler.urlFor(databaseName),
        poolMode: 'transaction',
        poolSize: 1,
        poolTimeoutSeconds: 5,
        queryTimeoutSeconds: TIMEOUT_SECONDS,
      }),
      { warn() {}, error() {} },
    );
    try {
      await single.prisma.$queryRawUnsafe('SELECT 1');
      const outcome = await single.prisma
        .$transaction(
          async (tx) => {
            await tx.$queryRawUnsafe('SELECT 1');
            pooler.signal('SIGSTOP');
            return tx.$queryRawUnsafe('SELECT pg_sleep(3)');
          },
          { timeout: 10_000 },
        )
        .then(
          () => 'answered',
          (error: unknown) => classifyDatabaseFailure(error),
        );
      pooler.signal('SIGCONT');
      expect(outcome).toBe('unavailable');
      const next = performance.now();
      const rows = await single.prisma.$queryRawUnsafe<{ one: number }[]>('SELECT 1 AS one');
      expect(rows[0]?.one).toBe(1);
      expect(performance.now() - next).toBeLessThan(900);
    } finally {
      pooler.signal('SIGCONT');
      await single.close();
    }
  }, 20_000);

  test('a statement still queued behind another on its connection when its time is up says it was never sent', async () => {
    // Straight to PostgreSQL on one client: the second statement waits in pg's own queue behind the sleep.
    // Its error must not claim a cancel on the server (a bench run read that wording as time spent there).
    const Client = cancellingClient(300);
    const client = new Client({ connectionString: testStack().postgres.urlFor(databaseName) });
    await client.connect();
    try {
      const [sleeping, queued] = await Promise.all([
        client.query(SLEEP).catch((error: unknown) => error),
        client.query('SELECT 1').catch((error: unknown) => error),
      ]);
      expect(sleeping).toBeInstanceOf(StatementTimedOut);
      expect((sleeping as StatementTimedOut).sent).toBe(true);
      expect(queued).toBeInstanceOf(StatementTimedOut);
      expect((queued as StatementTimedOut).sent).toBe(false);
      expect((queued as StatementTimedOut).connectionReusable).toBe(true);
      expect((queued as Error).message).toContain('never sent');
      expect(classifyDatabaseFailure(queued)).toBe('unavailable');
    } finally {
      await client.end();
    }
  });
});
