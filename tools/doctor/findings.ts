// The doctor's rules, as a pure function over what it read: one finding per problem, each with a
// severity and the fix in plain words. Unit-tested finding by finding (findings.test.ts).
import { BUDGET_HEADROOM, overBudget, pooledConnections } from '../../shared/connection-budget.ts';
import { buildPooledDatabaseConfig, type PoolMode } from '../../shared/db-config.ts';
import type { EnvOverride } from '../../shared/env-layers.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  code: string;
  service?: string;
  message: string;
  fix: string;
}

export interface ServiceReport {
  service: string;
  /** Set when the configuration could not be loaded at all. */
  configError?: string;
  /** Nothing but DATABASE_URL is missing: normal under `bun run dev`, which provides one. */
  databaseUrlUnset?: boolean;
  nodeEnv?: string;
  databaseUrl?: string;
  databaseUrlSource?: string;
  directUrl?: string;
  redisUrl?: string;
  mode?: PoolMode;
  modeReason?: string;
  poolSize?: number;
  poolTimeoutSeconds?: number;
  /** True when neither DB_POOL_TIMEOUT nor pool_timeout was given (the 10 s default applies). */
  poolTimeoutDefaulted?: boolean;
  idleTimeoutSeconds?: number;
  replicas: number;
  overrides: EnvOverride[];
  notes: string[];
  hadPgbouncerFlag?: boolean;
}

export interface Budget {
  connections: number;
  source: string;
}

const hostOf = (url?: string) => {
  try {
    return url ? new URL(url).hostname : undefined;
  } catch {
    return undefined;
  }
};

function stripPoolParameters(url: string): string {
  try {
    return buildPooledDatabaseConfig({ databaseUrl: url }).connectionString;
  } catch {
    return url;
  }
}

export const budgetUse = (services: ServiceReport[]): number => pooledConnections(services);

export function diagnose(services: ServiceReport[], budget?: Budget): Finding[] {
  const findings: Finding[] = [];
  for (const report of services) {
    const service = report.service;
    if (report.databaseUrlUnset) {
      findings.push({
        severity: 'info',
        code: 'DATABASE_URL_UNSET',
        service,
        message: 'DATABASE_URL is not set: `bun run dev` provides an embedded PostgreSQL behind PgBouncer.',
        fix: 'Set DATABASE_URL (the transaction pooler) and DIRECT_URL to run the services on their own or in production.',
      });
      continue;
    }
    if (report.configError) {
      findings.push({
        severity: 'error',
        code: 'CONFIG_INVALID',
        service,
        message: report.configError,
        fix: 'Correct the named keys; the service refuses to start until then.',
      });
      continue;
    }
    for (const override of report.overrides) {
      if (!['DATABASE_URL', 'DIRECT_URL', 'REDIS_URL'].includes(override.key)) continue;
      findings.push({
        severity: 'warning',
        code: 'LOCAL_OVERRIDE',
        service,
        message: `${override.winner} overrides ${override.key} from ${override.loser}.`,
        fix: `Remove ${override.key} from ${override.winner} so ${override.loser} decides, or make them agree on purpose.`,
      });
    }
    if (report.mode === 'session') {
      findings.push({
        severity: 'error',
        code: 'RUNTIME_ON_SESSION_POOLER',
        service,
        message: `DATABASE_URL is a session-mode pooler (${report.modeReason}): every open connection of every replica holds one of its client slots (MaxClientsInSessionMode).`,
        fix: 'Point DATABASE_URL at the transaction pooler (Supabase: the same pooler host, port 6543); keep the session address in DIRECT_URL for migrations.',
      });
    }
    if (report.mode === 'direct' && report.nodeEnv === 'production') {
      findings.push({
        severity: 'warning',
        code: 'RUNTIME_DIRECT',
        service,
        message: 'DATABASE_URL connects straight to PostgreSQL: each replica holds its own server connections.',
        fix: 'Put a transaction pooler in front (PgBouncer, Supavisor on 6543, Neon -pooler) as services and replicas grow.',
      });
    }
    for (const note of report.notes.filter((text) => text.includes(' wins over '))) {
      findings.push({
        severity: 'warning',
        code: 'POOL_SETTING_CONFLICT',
        service,
        message: note,
        fix: 'Say the pool size and timeout in one place: DB_POOL_SIZE / DB_POOL_TIMEOUT, not also in the URL.',
      });
    }
    if (report.hadPgbouncerFlag) {
      findings.push({
        severity: 'info',
        code: 'PGBOUNCER_FLAG',
        service,
        message:
          'DATABASE_URL carries pgbouncer=true, which Prisma 7 with adapter-pg does not read; it is removed at start.',
        fix: 'Drop ?pgbouncer=true from DATABASE_URL (nothing changes: node-postgres already sends unnamed statements).',
      });
    }
    if (report.poolTimeoutDefaulted) {
      findings.push({
        severity: 'info',
        code: 'ACQUIRE_TIMEOUT_DEFAULT',
        service,
        message: `No acquire timeout configured; the ${report.poolTimeoutSeconds} s default applies (pg's own default would wait forever).`,
        fix: 'Set DB_POOL_TIMEOUT (seconds) to say how long a request may wait for a connection before a 503.',
      });
    }
    if (!report.directUrl) {
      findings.push({
        severity: 'warning',
        code: 'DIRECT_URL_MISSING',
        service,
        message: 'DIRECT_URL is not set: migrations have no session/direct address.',
        fix: 'Set DIRECT_URL to the session pooler or the database itself (Supabase: port 5432).',
      });
    } else if (
      report.databaseUrl &&
      stripPoolParameters(report.directUrl) === stripPoolParameters(report.databaseUrl) &&
      report.mode === 'transaction'
    ) {
      findings.push({
        severity: 'error',
        code: 'DIRECT_URL_IS_POOLED',
        service,
        message: 'DIRECT_URL equals the transaction-pooler DATABASE_URL: migrations would run through the pooler.',
        fix: 'Set DIRECT_URL to the session pooler or the database itself (Supabase: port 5432).',
      });
    }
    const redisHost = hostOf(report.redisUrl);
    if (
      redisHost &&
      redisHost === hostOf(report.databaseUrl) &&
      !['localhost', '127.0.0.1', '::1'].includes(redisHost)
    ) {
      findings.push({
        severity: 'warning',
        code: 'REDIS_ON_DATABASE_HOST',
        service,
        message: `REDIS_URL points at the database host (${redisHost}).`,
        fix: 'Check REDIS_URL: a copy-pasted database host is a common mistake; Redis usually runs elsewhere.',
      });
    }
  }

  const pooled = services.filter((report) => report.poolSize !== undefined);
  const used = budgetUse(pooled);
  if (!budget) {
    findings.push({
      severity: 'info',
      code: 'BUDGET_UNKNOWN',
      message: `The services' pools add up to ${used} connections; no budget to compare with.`,
      fix: 'Set DB_CONNECTION_BUDGET (e.g. your pooler pool size, or max_connections), or run with --live to read it.',
    });
  } else if (overBudget(used, budget.connections)) {
    findings.push({
      severity: 'error',
      code: 'POOLS_OVER_BUDGET',
      message: `Pools × replicas = ${used}, plus ${BUDGET_HEADROOM} for migrations and tools, exceeds the budget of ${budget.connections} (${budget.source}).`,
      fix: 'Lower DB_POOL_SIZE or replicas, or move runtime traffic to a transaction pooler whose client limit is much larger.',
    });
  }
  return findings;
}
