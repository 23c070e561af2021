// The database `bun run dev` runs against: the configured one, or an embedded PostgreSQL kept in
// .data/postgres with a transaction-mode PgBouncer in front when the binary is there, so local
// development has the production topology.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceConfig } from '../../shared/config-schema.ts';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { applyMigrations } from '../migrations/apply-migrations.ts';
import { chooseMigrationAddress } from '../migrations/migration-address.ts';
import { findPgBouncerBinary, startPgBouncer } from '../stack/pgbouncer.ts';
import { createDatabase, startEmbeddedPostgres } from '../stack/postgres.ts';
import { findFreePort, isPortOpen } from '../stack/processes.ts';

export interface DevDatabase {
  /** Set for the services' environment when the runner provides the database itself. */
  env: Record<string, string>;
  /** True when the database was just created, so demo data should be seeded. */
  fresh: boolean;
  stop(): Promise<void>;
}

const EMBEDDED_PORT = 54329;
/** Like a free tier, so pool mistakes show up locally. */
export const DEV_MAX_CONNECTIONS = 20;
/** PgBouncer's server connections: max_connections less 5 for migrations, psql and an IDE. */
export const DEV_POOLER_POOL_SIZE = 15;
const POOLER_PORT = 6543;
const DATABASE_NAME = 'poolwise';
const POOLER_PID_FILE = 'dev-pgbouncer.pid';

/**
 * A runner that was killed without its Ctrl-C cleanup leaves its PostgreSQL and PgBouncer running
 * (holding the data folder and 6543); the next start ends them, if they are still what we started.
 */
async function stopStalePostgres(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) return;
    process.kill(pid, 'SIGINT'); // PostgreSQL's fast shutdown
  } catch {
    return; // not running any more: PostgreSQL clears a stale pid file itself
  }
  for (let waited = 0; existsSync(pidFile) && waited < 10_000; waited += 100) await Bun.sleep(100);
}

function stopStalePooler(dataDir: string): void {
  const pidFile = join(dataDir, '..', POOLER_PID_FILE);
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pgbouncer')) process.kill(pid, 'SIGTERM');
  } catch {
    // already gone, or no /proc here: nothing to stop
  }
  rmSync(pidFile, { force: true });
}

async function portOrFree(preferred: number): Promise<number> {
  return (await isPortOpen(preferred)) ? findFreePort() : preferred;
}

export async function prepareDevDatabase(config: ServiceConfig, say: (line: string) => void): Promise<DevDatabase> {
  if (config.DATABASE_URL) {
    say('Using the configured DATABASE_URL.');
    const { url, problem } = chooseMigrationAddress(config);
    if (url) {
      const applied = await applyMigrations(url);
      say(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'Migrations: up to date.');
    } else {
      say(`Not migrating: ${problem}`);
    }
    return { env: {}, fresh: false, stop: async () => {} };
  }

  const dataDir = join(config.DEV_DATA_DIR ?? join(REPOSITORY_ROOT, '.data'), 'postgres');
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  await stopStalePostgres(dataDir);
  say(`No DATABASE_URL configured: ${fresh ? 'creating' : 'starting'} an embedded PostgreSQL in ${dataDir}.`);
  const postgres = await startEmbeddedPostgres({
    dataDir,
    port: await portOrFree(EMBEDDED_PORT),
    persistent: true,
    maxConnections: DEV_MAX_CONNECTIONS,
  });
  await createDatabase(postgres, DATABASE_NAME);
  const directUrl = postgres.urlFor(DATABASE_NAME);
  const applied = await applyMigrations(directUrl);
  say(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'Migrations: up to date.');

  if (!findPgBouncerBinary()) {
    say(
      'NOTICE: pgbouncer is not installed, so the services connect DIRECTLY to PostgreSQL. ' +
        'Install it (apt-get install pgbouncer / brew install pgbouncer) to run behind a transaction pooler as in production.',
    );
    return {
      env: { DATABASE_URL: directUrl, DIRECT_URL: directUrl },
      fresh,
      stop: () => postgres.stop(),
    };
  }
  stopStalePooler(dataDir);
  const pooler = await startPgBouncer({
    upstream: postgres,
    databases: [DATABASE_NAME],
    poolMode: 'transaction',
    poolSize: DEV_POOLER_POOL_SIZE,
    maxClientConn: 500,
    port: await portOrFree(POOLER_PORT),
  });
  say(`PgBouncer (transaction mode) listens on 127.0.0.1:${pooler.port} in front of it.`);
  if (pooler.pid) writeFileSync(join(dataDir, '..', POOLER_PID_FILE), String(pooler.pid));
  // The pooled URL carries PgBouncer's password for the application role (random per start).
  return {
    env: { DATABASE_URL: pooler.urlFor(DATABASE_NAME), DIRECT_URL: directUrl, DB_POOL_MODE: 'transaction' },
    fresh,
    async stop() {
      await pooler.stop();
      rmSync(join(dataDir, '..', POOLER_PID_FILE), { force: true });
      await postgres.stop();
    },
  };
}
