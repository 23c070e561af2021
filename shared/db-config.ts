// Pure URL and pool arithmetic behind shared/db.ts: no I/O, so every rule is unit-tested.
//
// Prisma 7's adapter-pg does not read `connection_limit`, `pool_timeout` or `pgbouncer` from the URL
// any more, and pg.Pool's defaults (10 connections, *wait forever* for one) are how a pooler gets
// exhausted and requests hang. So this turns whatever people write into explicit pool options.

import { maskSecretsInUrl } from './env-layers.ts';

export type PoolMode = 'transaction' | 'session' | 'direct';

export const DEFAULT_POOL_SIZE = 2;
export const DEFAULT_POOL_TIMEOUT_SECONDS = 10;
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 10;
/**
 * How long one statement may run (PgBouncer's queue included) before the service cancels it
 * (shared/cancelling-pg-client.ts). Without it, a slow statement or a pooler that hangs with the
 * connection open (SIGSTOP, a blackholed link) holds the request, and the connection, for as long as
 * that lasts.
 */
export const DEFAULT_QUERY_TIMEOUT_SECONDS = 5;

/** URL parameters we read and remove: pg would otherwise pass unknown ones to the server. */
const POOL_URL_PARAMETERS = ['connection_limit', 'pool_timeout', 'pgbouncer'] as const;

export interface PooledDatabaseInput {
  databaseUrl: string;
  poolSize?: number;
  poolTimeoutSeconds?: number;
  idleTimeoutSeconds?: number;
  queryTimeoutSeconds?: number;
  poolMode?: PoolMode;
}

export interface PooledDatabaseConfig {
  /** The address handed to pg, with the pool parameters above removed. */
  connectionString: string;
  /** The same, password masked, for logs. */
  maskedUrl: string;
  host: string;
  port: number;
  mode: PoolMode;
  /** Why the mode was chosen, in words ("port 6543", "DB_POOL_MODE"). */
  modeReason: string;
  /** pg.Pool options: never left at pg's "wait forever" acquire timeout. */
  pool: {
    max: number;
    connectionTimeoutMillis: number;
    idleTimeoutMillis: number;
    /** DB_QUERY_TIMEOUT: statements running longer are cancelled (shared/cancelling-pg-client.ts). */
    statementTimeoutMillis: number;
  };
  /** Things the user wrote that were ignored, removed or in conflict, one sentence each. */
  notes: string[];
}

/** Supabase/Supavisor and self-hosted poolers; Neon's `-pooler` hosts are transaction mode on 5432. */
const NEON_POOLER_HOST = /-pooler\.[^.]+.*neon\.tech$/i;
const POOLER_HOST = /(^|[.-])(pooler|pgbouncer|supavisor)([.-]|$)/i;

export function classifyDatabaseAddress(
  host: string,
  port: number,
  explicitMode?: PoolMode,
): { mode: PoolMode; reason: string } {
  if (explicitMode) return { mode: explicitMode, reason: 'DB_POOL_MODE' };
  if (port === 6543) return { mode: 'transaction', reason: 'port 6543 (transaction pooler convention)' };
  if (NEON_POOLER_HOST.test(host)) return { mode: 'transaction', reason: 'Neon pooler host' };
  if (POOLER_HOST.test(host)) {
    return port === 5432
      ? { mode: 'session', reason: `port 5432 on pooler host ${host} (session mode)` }
      : { mode: 'transaction', reason: `pooler host ${host}` };
  }
  if (port === 5432) return { mode: 'direct', reason: 'port 5432 on a database host' };
  return { mode: 'direct', reason: `port ${port} (no convention matched; set DB_POOL_MODE if this is a pooler)` };
}

function parsePositiveNumber(raw: string | null, name: string, notes: string[]): number | undefined {
  if (raw === null) return undefined;
  const value = Number(raw);
  if (Number.isFinite(value) && value > 0) return value;
  notes.push(`${name}=${raw} in DATABASE_URL is not a positive number and was ignored.`);
  return undefined;
}

/** Explicit setting beats URL parameter beats default; a disagreement is reported, never silent. */
function pickSetting(
  explicit: number | undefined,
  explicitName: string,
  fromUrl: number | undefined,
  urlName: string,
  fallback: number,
  notes: string[],
): number {
  if (explicit !== undefined && fromUrl !== undefined && explicit !== fromUrl) {
    notes.push(`${explicitName}=${explicit} wins over ${urlName}=${fromUrl} in DATABASE_URL.`);
  }
  return explicit ?? fromUrl ?? fallback;
}

export function buildPooledDatabaseConfig(input: PooledDatabaseInput): PooledDatabaseConfig {
  const url = new URL(input.databaseUrl);
  const notes: string[] = [];
  const params = url.searchParams;

  const urlPoolSize = parsePositiveNumber(params.get('connection_limit'), 'connection_limit', notes);
  const urlTimeout = parsePositiveNumber(params.get('pool_timeout'), 'pool_timeout', notes);
  if (params.has('pgbouncer')) {
    notes.push(
      `pgbouncer=${params.get('pgbouncer')} removed from DATABASE_URL: Prisma 7 with adapter-pg does not read it ` +
        '(node-postgres sends unnamed statements, which transaction poolers carry).',
    );
  }
  for (const name of POOL_URL_PARAMETERS) params.delete(name);

  const max = Math.round(
    pickSetting(input.poolSize, 'DB_POOL_SIZE', urlPoolSize, 'connection_limit', DEFAULT_POOL_SIZE, notes),
  );
  const timeoutSeconds = pickSetting(
    input.poolTimeoutSeconds,
    'DB_POOL_TIMEOUT',
    urlTimeout,
    'pool_timeout',
    DEFAULT_POOL_TIMEOUT_SECONDS,
    notes,
  );
  const idleSeconds = input.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS;
  const queryTimeoutSeconds = input.queryTimeoutSeconds ?? DEFAULT_QUERY_TIMEOUT_SECONDS;

  const port = url.port ? Number(url.port) : 5432;
  const host = url.hostname;
  const { mode, reason } = classifyDatabaseAddress(host, port, input.poolMode);

  return {
    connectionString: url.toString(),
    // The userinfo password and `password=`/`sslpassword=` parameters alike: the address is logged.
    maskedUrl: maskSecretsInUrl(url.toString()),
    host,
    port,
    mode,
    modeReason: reason,
    pool: {
      max,
      connectionTimeoutMillis: Math.round(timeoutSeconds * 1000),
      idleTimeoutMillis: Math.round(idleSeconds * 1000),
      statementTimeoutMillis: Math.round(queryTimeoutSeconds * 1000),
    },
    notes,
  };
}

const MODE_LABELS: Record<PoolMode, string> = {
  transaction: 'TRANSACTION POOLER (PgBouncer)',
  session: 'SESSION POOLER',
  direct: 'DIRECT',
};

/** The incident report's start-up line, e.g. `[ClientService] Using TRANSACTION POOLER (PgBouncer) connection (pool: 2, timeout: 30s)`. */
export function describePoolLine(serviceLogName: string, config: PooledDatabaseConfig): string {
  const timeout = config.pool.connectionTimeoutMillis / 1000;
  return `[${serviceLogName}] Using ${MODE_LABELS[config.mode]} connection (pool: ${config.pool.max}, timeout: ${timeout}s)`;
}

/**
 * What a runtime service should do about its address. Session mode holds one pooler client per open
 * connection for the connection's whole life: the incident's MaxClientsInSessionMode.
 */
export function judgeRuntimeAddress(
  config: PooledDatabaseConfig,
  nodeEnv: string,
): { verdict: 'ok' | 'warn' | 'refuse'; message?: string } {
  if (config.mode !== 'session') return { verdict: 'ok' };
  const fix =
    `DATABASE_URL points at a SESSION-mode pooler (${config.host}:${config.port}): every open connection of every ` +
    'service and replica holds one of the pool_size client slots, which is how MaxClientsInSessionMode happens. ' +
    'Use the transaction pooler for runtime traffic (on Supabase: the same pooler host on port 6543) and keep ' +
    'the session/direct address in DIRECT_URL for migrations.';
  return nodeEnv === 'production' ? { verdict: 'refuse', message: fix } : { verdict: 'warn', message: fix };
}
