// Which address migrations may use. Never the transaction pooler: migrations take advisory locks
// and run multi-statement DDL, which belong on a session or direct connection (DIRECT_URL).
import type { ServiceConfig } from '../../shared/config-schema.ts';
import { buildPooledDatabaseConfig } from '../../shared/db-config.ts';

export function chooseMigrationAddress(config: Pick<ServiceConfig, 'DATABASE_URL' | 'DIRECT_URL' | 'DB_POOL_MODE'>): {
  url?: string;
  problem?: string;
} {
  if (config.DIRECT_URL) return { url: config.DIRECT_URL };
  if (!config.DATABASE_URL) {
    return {
      problem: 'Neither DIRECT_URL nor DATABASE_URL is set (`bun run dev` migrates its embedded database itself).',
    };
  }
  const runtime = buildPooledDatabaseConfig({ databaseUrl: config.DATABASE_URL, poolMode: config.DB_POOL_MODE });
  if (runtime.mode === 'transaction') {
    return {
      problem:
        'DIRECT_URL is not set and DATABASE_URL is a transaction pooler: migrations must not run through it. ' +
        'Set DIRECT_URL to the session or direct address (on Supabase: the pooler host on port 5432).',
    };
  }
  return { url: config.DATABASE_URL };
}
