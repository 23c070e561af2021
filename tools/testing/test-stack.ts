// The real stack one `bun test` run provisions for itself, the first time an integration test asks for
// it (`beforeAll(useTestStack, STACK_START_TIMEOUT_MS)`): PostgreSQL (the machine's, or an embedded
// one), a fresh database with migrations applied, a transaction-mode PgBouncer and a redis-server on
// free ports. preload.ts tears it down after the run. Unit tests never ask, so they start nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMigrations } from '../migrations/apply-migrations.ts';
import { type RunningPgBouncer, startPgBouncer } from '../stack/pgbouncer.ts';
import {
  createDatabase,
  dropDatabase,
  type PostgresServer,
  startEmbeddedPostgres,
  useExistingPostgres,
} from '../stack/postgres.ts';
import { type RunningRedis, startRedis } from '../stack/redis.ts';

export interface TestStack {
  postgres: PostgresServer;
  databaseName: string;
  /** Direct address of the test database (migrations, assertions on pg_stat_activity). */
  directUrl: string;
  /** The transaction pooler in front of it: what services use at runtime. */
  pooledUrl: string;
  pgbouncer: RunningPgBouncer;
  redis: RunningRedis;
}

/**
 * Where tests find PostgreSQL: TEST_POSTGRES_URL, else the machine's server on the default port, else
 * an embedded one (TEST_POSTGRES=embedded forces that).
 */
const DEFAULT_SERVER_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

let current: TestStack | undefined;
let provisioning: Promise<TestStack> | undefined;
let embeddedDir: string | undefined;

/** Starting an embedded PostgreSQL on a cold machine takes a few seconds; hooks get this long. */
export const STACK_START_TIMEOUT_MS = 120_000;

export function testStack(): TestStack {
  if (!current) {
    throw new Error('the test stack is not up: add `beforeAll(useTestStack, STACK_START_TIMEOUT_MS)` to the test file');
  }
  return current;
}

/** Provisions the stack once per `bun test` run, however many files ask. */
export function useTestStack(): Promise<TestStack> {
  provisioning ??= provisionTestStack();
  return provisioning;
}

async function provisionTestStack(): Promise<TestStack> {
  const serverUrl = process.env.TEST_POSTGRES_URL ?? DEFAULT_SERVER_URL;
  let postgres = process.env.TEST_POSTGRES === 'embedded' ? undefined : await useExistingPostgres(serverUrl);
  if (!postgres) {
    if (process.env.TEST_POSTGRES_URL) throw new Error(`TEST_POSTGRES_URL=${serverUrl} does not answer`);
    embeddedDir = mkdtempSync(join(tmpdir(), 'poolwise-test-pg-'));
    postgres = await startEmbeddedPostgres({ dataDir: join(embeddedDir, 'data'), persistent: false });
  }
  const databaseName = `poolwise_test_${process.pid}_${Date.now().toString(36)}`;
  await createDatabase(postgres, databaseName);
  const directUrl = postgres.urlFor(databaseName);
  await applyMigrations(directUrl);
  const pgbouncer = await startPgBouncer({
    upstream: postgres,
    databases: [databaseName],
    poolMode: 'transaction',
    poolSize: 15,
    maxClientConn: 500,
  });
  const redis = await startRedis();
  current = {
    postgres,
    databaseName,
    directUrl,
    pooledUrl: pgbouncer.urlFor(databaseName),
    pgbouncer,
    redis,
  };
  return current;
}

export async function teardownTestStack(): Promise<void> {
  provisioning = undefined;
  if (!current) return;
  const { pgbouncer, redis, postgres, databaseName } = current;
  current = undefined;
  await Promise.allSettled([pgbouncer.stop(), redis.stop()]);
  await dropDatabase(postgres, databaseName).catch(() => {});
  await postgres.stop();
  if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
}
