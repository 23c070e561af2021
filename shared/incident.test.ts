// The incident report as a regression test, against real processes: the three services' pools
// through a session-mode pooler capped like Supabase's free tier fail with a max-clients error; the
// same load through a transaction-mode pooler (pool 15) completes with zero errors while PostgreSQL
// never shows more server connections than that pool.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import pg from 'pg';
import { applyMigrations } from '../tools/migrations/apply-migrations.ts';
import { type RunningPgBouncer, startPgBouncer } from '../tools/stack/pgbouncer.ts';
import { createDatabase, dropDatabase } from '../tools/stack/postgres.ts';
import { clientBackends, peakWhile } from '../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../tools/testing/test-stack.ts';
import { createClientRepository } from '../workers/client/client-repository.ts';
import { buildPooledDatabaseConfig, openPooledDatabase, type PooledDatabase } from './db.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const FREE_TIER_POOL = 15;
const SERVICES = ['auth', 'user', 'client'];
const REPLICAS_PER_SERVICE = 3;
const POOL_PER_REPLICA = 2; // 3 services x 3 replicas x 2 = 18 client connections > 15
const REQUESTS_PER_REPLICA = 60;
const CONCURRENCY_PER_REPLICA = 4;

let databaseName: string;
let ownerId: string;
let sessionPooler: RunningPgBouncer;
let transactionPooler: RunningPgBouncer;
const silentLogger = { warn() {}, error() {} };

beforeAll(async () => {
  const stack = testStack();
  databaseName = `${stack.databaseName}_incident`;
  await createDatabase(stack.postgres, databaseName);
  await applyMigrations(stack.postgres.urlFor(databaseName));
  const seed = new pg.Client({ connectionString: stack.postgres.urlFor(databaseName) });
  await seed.connect();
  const { rows } = await seed.query(
    `INSERT INTO users (id, email, password_hash, name, updated_at)
     VALUES (gen_random_uuid(), 'owner@incident.test', 'x', 'Owner', now()) RETURNING id`,
  );
  ownerId = rows[0].id;
  await seed.query(
    `INSERT INTO clients (id, owner_id, name, company, updated_at)
     SELECT gen_random_uuid(), $1, 'Client ' || i, 'Company ' || (i % 7), now() FROM generate_series(1, 200) i`,
    [ownerId],
  );
  await seed.end();
  [sessionPooler, transactionPooler] = await Promise.all([
    startPgBouncer({
      upstream: stack.postgres,
      databases: [databaseName],
      poolMode: 'session',
      poolSize: FREE_TIER_POOL,
      maxClientConn: FREE_TIER_POOL,
    }),
    startPgBouncer({
      upstream: stack.postgres,
      databases: [databaseName],
      poolMode: 'transaction',
      poolSize: FREE_TIER_POOL,
      maxClientConn: 1000,
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([sessionPooler?.stop(), transactionPooler?.stop()]);
  if (databaseName) await dropDatabase(testStack().postgres, databaseName);
});

/** Samples PostgreSQL's server connections to the incident database while `work` runs. */
async function measurePeakServerConnections<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  const observer = new pg.Client({ connectionString: testStack().postgres.urlFor('postgres') });
  await observer.connect();
  const count = () => clientBackends(observer, databaseName);
  // Start from zero: server connections left by an earlier scenario would inflate the peak.
  for (let waited = 0; (await count()) > 0; waited += 50) {
    if (waited > 10_000) throw new Error('server connections from an earlier scenario never closed');
    await Bun.sleep(50);
  }
  try {
    return await peakWhile(count, work);
  } finally {
    await observer.end();
  }
}

/** Every replica of every service runs the client-list query the report describes, concurrently. */
async function runClientListLoad(url: string) {
  const replicas: PooledDatabase[] = [];
  for (const _service of SERVICES) {
    for (let replica = 0; replica < REPLICAS_PER_SERVICE; replica++) {
      const config = buildPooledDatabaseConfig({ databaseUrl: url, poolSize: POOL_PER_REPLICA, poolTimeoutSeconds: 3 });
      replicas.push(openPooledDatabase(config, silentLogger));
    }
  }
  const errors: string[] = [];
  let succeeded = 0;
  try {
    await Promise.all(
      replicas.map(async (database) => {
        const clients = createClientRepository(database.prisma);
        let next = 0;
        const worker = async () => {
          while (next < REQUESTS_PER_REPLICA) {
            next++;
            try {
              const page = await clients.listForOwner({ ownerId, page: 1 + (next % 5), limit: 20, sort: '-createdAt' });
              if (page.total === 200) succeeded++;
              else errors.push(`wrong total ${page.total}`);
            } catch (error) {
              // Prisma prefixes the driver's text with the call site; keep the driver's own words.
              errors.push((error as Error).message.split('\n').at(-1) ?? '');
            }
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY_PER_REPLICA }, worker));
      }),
    );
  } finally {
    await Promise.all(replicas.map((database) => database.close().catch(() => {})));
  }
  return { errors, succeeded, attempted: replicas.length * REQUESTS_PER_REPLICA };
}

describe('the incident: three services, several replicas, one free-tier pool', () => {
  test('through the session-mode pooler the max-clients failure is reproduced', async () => {
    const { result } = await measurePeakServerConnections(() => runClientListLoad(sessionPooler.urlFor(databaseName)));
    // A session pool keeps its server connections; stopping it hands them back before the next scenario.
    await sessionPooler.stop();
    console.info(
      `[incident] session mode: ${result.errors.length} errors of ${result.attempted} requests, ` +
        `kinds: ${JSON.stringify([...new Set(result.errors)].slice(0, 4))}`,
    );
    expect(result.errors.length).toBeGreaterThan(0);
    expect(result.errors.some((message) => /no more connections allowed|max_client_conn/i.test(message))).toBe(true);
  }, 60_000);

  test('through the transaction pooler the same load completes, PostgreSQL connections capped by the pool', async () => {
    const { result, peak } = await measurePeakServerConnections(() =>
      runClientListLoad(transactionPooler.urlFor(databaseName)),
    );
    console.info(
      `[incident] transaction mode: ${result.errors.length} errors of ${result.attempted} requests, ` +
        `peak PostgreSQL server connections ${peak} (pool ${FREE_TIER_POOL})`,
    );
    expect(result.errors).toEqual([]);
    expect(result.succeeded).toBe(result.attempted);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(FREE_TIER_POOL);
  }, 60_000);
});
