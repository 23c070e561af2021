// `bun --no-env-file tools/bench/list-cost.ts [--large 1000000] [--seconds 3] [--runs 3]`: what one
// client-list page costs, measured in process against a scratch database on the machine's PostgreSQL
// (or an embedded one) behind a transaction-mode PgBouncer. Not a timed test: it prints figures.
//   1. pages/s through the repository (Prisma) and through plain pg running the same statement;
//   2. median latency of page 1 (search off and on) and of a deep page by cursor, for an owner with
//      `--large` clients and one with 50, and the shape of each statement's plan.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildPooledDatabaseConfig, openPooledDatabase } from '../../shared/db.ts';
import {
  buildPageMarks,
  type ClientListQuery,
  createClientRepository,
} from '../../workers/client/client-repository.ts';
import { applyMigrations } from '../migrations/apply-migrations.ts';
import { startPgBouncer } from '../stack/pgbouncer.ts';
import { createDatabase, dropDatabase, startEmbeddedPostgres, useExistingPostgres } from '../stack/postgres.ts';
import { pagesPerSecond } from './load.ts';
import { createPlainPgClientList } from './plain-pg-client-list.ts';
import { insertClients, planShape } from './tenant-size.ts';

const { values: flags } = parseArgs({
  options: { large: { type: 'string' }, seconds: { type: 'string' }, runs: { type: 'string' } },
});
const LARGE = Number(flags.large ?? 1_000_000);
const SECONDS = Number(flags.seconds ?? 3);
const RUNS = Number(flags.runs ?? 3);
const SAMPLES = 25;
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
    // A round first, not reported: both paths' code warmed up (JIT) before anything is compared.
    await pagesPerSecond(() => viaPrisma.listForOwner(query), SECONDS);
    await pagesPerSecond(() => viaPg.listForOwner(query), SECONDS);
    for (let run = 1; run <= RUNS; run++) {
      const prisma = await pagesPerSecond(() => viaPrisma.listForOwner(query), SECONDS);
      const plain = await pagesPerSecond(() => viaPg.listForOwner(query), SECONDS);
      log(`   run ${run}: Prisma ${prisma}, plain pg ${plain}, ratio ${(prisma / plain).toFixed(2)}`);
    }
    // Deep pages by number start at the owners' page marks, which the list builds after the first deep
    // page asks: built here up front, as they would be for an owner at rest.
    for (const ownerId of [owners.large, owners.small]) {
      for (const order of ['createdAt', 'name'] as const) await buildPageMarks(database.prisma, ownerId, order);
    }
    log(`2. median ms of ${SAMPLES} pages, one at a time, through the repository (large / small / ratio)`);
    for (const [what, request] of pageRequests(owners, await cursorsDeepIn(viaPrisma, owners))) {
      const largeMs = await medianMs(() => viaPrisma.listForOwner(request(owners.large)));
      const smallMs = await medianMs(() => viaPrisma.listForOwner(request(owners.small)));
      log(`   ${what}: ${largeMs.toFixed(2)} / ${smallMs.toFixed(2)} / ${(largeMs / smallMs).toFixed(1)}x`);
      const plan = await planShape(plainPool, request(owners.large));
      for (const line of plan) log(`      ${line}`);
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

type Owners = { large: string; medium: string; small: string };
type Request = (ownerId: string) => ClientListQuery;

/** What part 2 measures; a deep page is 3/4 of the way into the owner's clients. */
function pageRequests(owners: Owners, cursors: Record<string, string>): [string, Request][] {
  const page1 = { page: 1, limit: 20, sort: '-createdAt' as const };
  const deepPage = Math.floor((LARGE * 3) / 4 / 20);
  return [
    ['page 1', (ownerId) => ({ ...page1, ownerId })],
    ['page 1, search=acme', (ownerId) => ({ ...page1, ownerId, search: 'acme' })],
    ['page 1, sort=name', (ownerId) => ({ ...page1, ownerId, sort: 'name' })],
    ['deep page by cursor (after)', (ownerId) => ({ ...page1, ownerId, after: cursors[ownerId] })],
    [
      `page ${deepPage.toLocaleString()} by number (small: its last page)`,
      (ownerId) => ({ ...page1, ownerId, page: ownerId === owners.large ? deepPage : 3 }),
    ],
  ];
}

/** A cursor 3/4 of the way into each owner's newest-first list (the small owner's: 3/4 of 50). */
async function cursorsDeepIn(repository: ReturnType<typeof createClientRepository>, owners: Owners) {
  const cursors: Record<string, string> = {};
  for (const [ownerId, count] of [
    [owners.large, LARGE],
    [owners.small, 50],
  ] as const) {
    const before = Math.floor((count * 3) / 4);
    const page = await repository.listForOwner({ ownerId, page: 1, limit: 1, sort: '-createdAt' });
    let cursor = page.next;
    // Walk in pages of 100 to the spot: as a client following meta.next would get there.
    for (let seen = 1; seen < before && cursor; seen += 100) {
      const limit = Math.min(100, before - seen);
      cursor = (await repository.listForOwner({ ownerId, page: 1, limit, sort: '-createdAt', after: cursor })).next;
    }
    if (!cursor) throw new Error('no cursor');
    cursors[ownerId] = cursor;
  }
  return cursors;
}

async function medianMs(work: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await work();
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const began = performance.now();
    await work();
    times.push(performance.now() - began);
  }
  return times.sort((a, b) => a - b)[Math.floor(SAMPLES / 2)] ?? 0;
}

/** Three owners, their clients generated in SQL (a million rows take about a minute); some named "Acme". */
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
      await insertClients(client, ids[label] as string, count);
    }
    // As autovacuum leaves a table at rest: statistics and the visibility map (index-only scans).
    await client.query('VACUUM ANALYZE clients');
    return ids as Owners;
  } finally {
    await client.end();
  }
}
