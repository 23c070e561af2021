// One pooled Prisma 7 client per process, built from the configuration by buildPooledDatabaseConfig
// (shared/db-config.ts, pure and unit-tested). We own the pg.Pool so that its size and acquire timeout
// are explicit, its idle-client errors cannot crash the process, and its counters can be observed.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { cancellingClient } from './cancelling-pg-client.ts';
import type { ServiceConfig } from './config-schema.ts';
import { buildPooledDatabaseConfig, judgeRuntimeAddress, type PooledDatabaseConfig } from './db-config.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { retryReadsOnce } from './retrying-reads-adapter.ts';
import { closeTimedOutTransactions } from './timed-out-transactions-adapter.ts';

export type { PooledDatabaseConfig, PoolMode } from './db-config.ts';
export { buildPooledDatabaseConfig, describePoolLine } from './db-config.ts';
export { PrismaClient };

export interface PooledDatabase {
  prisma: PrismaClient;
  pool: pg.Pool;
  config: PooledDatabaseConfig;
  close(): Promise<void>;
}

interface Logger {
  warn(message: string): void;
  error(details: object, message: string): void;
}

export class RuntimeAddressRefused extends Error {
  override name = 'RuntimeAddressRefused';
}

/** Turns the service configuration into pool settings, refusing a session-mode address in production. */
export function resolveRuntimeDatabaseConfig(config: ServiceConfig, logger: Logger): PooledDatabaseConfig {
  if (!config.DATABASE_URL) throw new RuntimeAddressRefused('DATABASE_URL is required');
  const databaseConfig = buildPooledDatabaseConfig({
    databaseUrl: config.DATABASE_URL,
    poolSize: config.DB_POOL_SIZE,
    poolTimeoutSeconds: config.DB_POOL_TIMEOUT,
    idleTimeoutSeconds: config.DB_IDLE_TIMEOUT,
    queryTimeoutSeconds: config.DB_QUERY_TIMEOUT,
    poolMode: config.DB_POOL_MODE,
  });
  for (const note of databaseConfig.notes) logger.warn(note);
  const judgement = judgeRuntimeAddress(databaseConfig, config.NODE_ENV);
  if (judgement.verdict === 'refuse') throw new RuntimeAddressRefused(judgement.message);
  if (judgement.verdict === 'warn') logger.warn(`WARNING: ${judgement.message}`);
  return databaseConfig;
}

export function openPooledDatabase(config: PooledDatabaseConfig, logger: Logger): PooledDatabase {
  // DB_QUERY_TIMEOUT is enforced by cancelling the statement (cancelling-pg-client.ts), not by pg's
  // own query_timeout, which would leave it running on the server.
  const { statementTimeoutMillis, ...poolOptions } = config.pool;
  const pool = new pg.Pool({
    connectionString: config.connectionString,
    ...poolOptions,
    Client: cancellingClient(statementTimeoutMillis),
  });
  // An idle client losing its server (pooler restart, network blip) emits 'error' on the pool;
  // unhandled, that would take the whole process down.
  pool.on('error', (error) => logger.error({ err: error }, 'idle database connection failed'));
  const prisma = new PrismaClient({
    adapter: retryReadsOnce(closeTimedOutTransactions(new PrismaPg(pool)), (error) =>
      logger.warn(`a read lost its connection (${(error as Error).message}); sent once more on a fresh one`),
    ),
  });
  return {
    prisma,
    pool,
    config,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
