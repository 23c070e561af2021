// The connection budget `bun run dev` checks before it starts anything, by the doctor's own rule
// (Σ pool × replicas + headroom): against DB_CONNECTION_BUDGET when set, otherwise against what the
// runner itself would start (its PgBouncer's server pool, or the embedded PostgreSQL's
// max_connections without PgBouncer). A configured database with no stated budget is not guessed.
import type { ServiceConfig } from '../../shared/config-schema.ts';
import { collectWorkerReports } from '../doctor/collect.ts';
import { type Budget, diagnose, type Finding } from '../doctor/findings.ts';
import { findPgBouncerBinary } from '../stack/pgbouncer.ts';
import { DEV_MAX_CONNECTIONS, DEV_POOLER_POOL_SIZE } from './database-for-dev.ts';

/** Stands in for the URL the runner will hand out, so every worker's pool arithmetic can run now. */
const RUNNER_POOLED_URL = 'postgresql://poolwise@127.0.0.1:6543/poolwise';

export function devBudget(config: ServiceConfig): Budget | undefined {
  if (config.DB_CONNECTION_BUDGET) return { connections: config.DB_CONNECTION_BUDGET, source: 'DB_CONNECTION_BUDGET' };
  if (config.DATABASE_URL) return undefined;
  return findPgBouncerBinary()
    ? { connections: DEV_POOLER_POOL_SIZE, source: "the dev PgBouncer's pool" }
    : { connections: DEV_MAX_CONNECTIONS, source: "the embedded PostgreSQL's max_connections" };
}

export function devBudgetProblems(
  config: ServiceConfig,
  processEnv: Record<string, string | undefined> = process.env,
): Finding[] {
  const budget = devBudget(config);
  if (!budget) return [];
  const env = config.DATABASE_URL
    ? processEnv
    : { DB_POOL_MODE: 'transaction', ...processEnv, DATABASE_URL: RUNNER_POOLED_URL };
  const reports = collectWorkerReports({ processEnv: env }).map((entry) => entry.report);
  return diagnose(reports, budget).filter((finding) => finding.code === 'POOLS_OVER_BUDGET');
}
