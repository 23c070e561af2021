// `bun --no-env-file tools/bench/list-cost.ts [--large 200000] [--seconds 3] [--runs 3]`: what one
// client-list page costs, measured in process against a scratch database on the machine's PostgreSQL
// (or an embedded one) behind a transaction-mode PgBouncer. Not a timed test: it prints figures.
//   1. pages/s through the repository (Prisma) and through plain pg running the same statement.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildPooledDatabaseConfig, openPooledDatabase } from '../../shared/db.ts';
import { createClientRepository } from '../../workers/client/client-repository.ts';
import { applyMigrations } from '../migrations/apply-migrations.ts';
import { startPgBouncer } from '../stack/pgbouncer.ts';
import { createDatabase, dropDatabase, startEmbeddedPostgres, useExistingPostgres } from '../stack/postgres.ts';
import { createPlainPgClientList } from './plain-pg-client-list.ts';

const { values: flags } = parseArgs({
  options: { large: { type: 'string' }, seconds: { type: 'string' }, runs: { type: 'string' } },
});
const LARGE = Number(flags.large ?? 200_000);
const SECONDS = Number(flags.seconds ?? 3);
const RUNS = Number(flags.runs ?? 3);
const log = (line: string) => console.log(`[list-cost] ${line}`);

const serverUrl = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const postgres =
  (await useExistingPostgres(serverUrl)) ??
  (await startEmbeddedPostgres({ dataDir: mkdtempSync(join(tmpdir(), 'poolwise-list-cost-')), persistent: false }));
const databaseName = `poolwise_list_cost_${process.pid}`;
await createDatabase(postgres, databaseName);
const directUrl = postgres.urlFor(databaseName);
try {
  await applyMigrations(directUrl);
  log(`seeding owners with ${LARGE.toLocaleString()}, 500 and 50 clients`);
  const owners = await seedOwners(directUrl, { large: LARGE, medium: 500, small: 50 });
  const pgbouncer = await startPgBouncer({
    upstream: postgres,
    databases: [databaseName],
    poolMode: 'transaction',
    poolSize: 10,
    maxClientConn: 100,
  });
  const pooledUrl = pgbouncer.urlFor(databaseName);
  const database = openPooledDatabase(
    buildPooledDatabaseConfig({ databaseUrl: pooledUrl, poolSize: 5, poolMode: 'transaction' }),
    { warn() {}, error() {} },
  );
  const plainPool = new pg.Pool({ connectionString: pooledUrl, max: 5 });
  try {
    const viaPrisma = createClientRepository(database.prisma);
    const viaPg = createPlainPgClientList(plainPool);
    const query = { ownerId: owners.medium, page: 1, limit: 20, sort: '-createdAt' as const };
    log('1. one page (500-client owner, page 1, limit 20), pool 5, 16 loops: pages/s');
    for (let run = 1; run <= RUNS; run++) {
      const prisma = await pagesPerSecond(() => viaPrisma.listForOwner(query), SECONDS);
      const plain = await pagesPerSecond(() => viaPg.listForOwner(query), SECONDS);
      log(`   run ${run}: Prisma ${prisma}, plain pg ${plain}, ratio ${(prisma / plain).toFixed(2)}`);
    }
  } finally {
    await database.close();
    await plainPool.end();
    await pgbouncer.stop();
  }
} finally {
  await dropDatabase(postgres, databaseName).catch(() => {});
  await postgres.stop();
}

/** Pages per second with 16 concurrent loops, as bench scenario 6 counts them. */
async function pagesPerSecond(work: () => Promise<unknown>, seconds: number): Promise<number> {
  for (let i = 0; i < 50; i++) await work();
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < until) {
        await work();
        done++;
      }
    }),
  );
  return Math.round(done / seconds);
}

/** Three owners, their clients generated in SQL (200,000 rows take seconds); some named "Acme". */
async function seedOwners(url: string, sizes: { large: number; medium: number; small: number }) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const ids: Record<string, string> = {};
    for (const [label, count] of Object.entries(sizes)) {
      const { rows } = await client.query(
        `INSERT INTO users (id, email, password_hash, name, updated_at)
         VALUES (gen_random_uuid(), $1, 'not-a-login', $1, now()) RETURNING id`,
        [`${label}@list-cost.test`],
      );
      ids[label] = rows[0].id;
      // One in 50 is an Acme; created_at repeats every 1,000 rows so the id tie-breaker is exercised.
      await client.query(
        `INSERT INTO clients (id, owner_id, name, email, company, status, created_at, updated_at)
         SELECT gen_random_uuid(), $1, CASE WHEN i % 50 = 0 THEN 'Acme ' ELSE 'Client ' END || i,
                'c' || i || '@example.test', 'Company ' || (i % 97),
                (ARRAY['ACTIVE','INACTIVE','LEAD'])[1 + i % 3]::"ClientStatus",
                timestamptz '2026-01-01' + ((i % 1000) || ' seconds')::interval, now()
         FROM generate_series(1, $2) i`,
        [ids[label], count],
      );
    }
    await client.query('ANALYZE clients');
    return ids as { large: string; medium: string; small: string };
  } finally {
    await client.end();
  }
}
