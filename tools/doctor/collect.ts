// Reads the configuration every worker would read (all layers, with provenance) into doctor reports.
import type { ServiceConfig } from '../../shared/config-schema.ts';
import { buildPooledDatabaseConfig, DEFAULT_POOL_TIMEOUT_SECONDS } from '../../shared/db-config.ts';
import { ConfigError, type LoadConfigOptions, loadServiceConfig } from '../../shared/env.ts';
import { replicasKey, SERVICES, serviceSetting, workerNames } from '../../shared/services.ts';
import type { ServiceReport } from './findings.ts';

/** One report per worker of the registry: every pool the connection budget must hold. */
export function collectWorkerReports(
  options: LoadConfigOptions = {},
): { report: ServiceReport; config?: ServiceConfig }[] {
  return workerNames(options.registry ?? SERVICES).map((service) => collectServiceReport(service, options));
}

export function collectServiceReport(
  service: string,
  options: LoadConfigOptions,
): { report: ServiceReport; config?: ServiceConfig } {
  let loaded: ReturnType<typeof loadServiceConfig>;
  try {
    loaded = loadServiceConfig(service, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const onlyDatabaseUrlMissing =
      error.problems.length === 1 && error.problems[0]?.startsWith('DATABASE_URL is required');
    return {
      report: {
        service,
        ...(onlyDatabaseUrlMissing ? { databaseUrlUnset: true } : { configError: error.message }),
        replicas: 1,
        overrides: [],
        notes: [],
      },
    };
  }
  const { config, sources, overrides } = loaded;
  const report: ServiceReport = {
    service,
    nodeEnv: config.NODE_ENV,
    databaseUrlSource: sources.DATABASE_URL,
    directUrl: config.DIRECT_URL,
    redisUrl: config.REDIS_URL,
    replicas: serviceSetting<number>(config, replicasKey(service)) ?? 1,
    overrides,
    notes: [],
  };
  if (config.DATABASE_URL) {
    const pooled = buildPooledDatabaseConfig({
      databaseUrl: config.DATABASE_URL,
      poolSize: config.DB_POOL_SIZE,
      poolTimeoutSeconds: config.DB_POOL_TIMEOUT,
      idleTimeoutSeconds: config.DB_IDLE_TIMEOUT,
      poolMode: config.DB_POOL_MODE,
    });
    const params = new URL(config.DATABASE_URL).searchParams;
    Object.assign(report, {
      databaseUrl: config.DATABASE_URL,
      mode: pooled.mode,
      modeReason: pooled.modeReason,
      poolSize: pooled.pool.max,
      poolTimeoutSeconds: pooled.pool.connectionTimeoutMillis / 1000,
      poolTimeoutDefaulted: config.DB_POOL_TIMEOUT === undefined && !params.has('pool_timeout'),
      idleTimeoutSeconds: pooled.pool.idleTimeoutMillis / 1000,
      notes: pooled.notes,
      hadPgbouncerFlag: params.has('pgbouncer'),
    });
  }
  if (report.poolTimeoutSeconds === undefined) report.poolTimeoutSeconds = DEFAULT_POOL_TIMEOUT_SECONDS;
  return { report, config };
}
