// `doctor --live`: connects to each address and asks what it really is.
import pg from 'pg';
import { buildPooledDatabaseConfig } from '../../shared/db-config.ts';
import { maskSecretsInUrl } from '../../shared/env-layers.ts';
import type { Budget, Finding, ServiceReport } from './findings.ts';

const TIMEOUT_MS = 3_000;

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** PgBouncer's admin console: the same host and port, database `pgbouncer`. */
async function pgbouncerPoolMode(url: string): Promise<string | undefined> {
  const admin = new URL(url);
  admin.pathname = '/pgbouncer';
  admin.search = '';
  try {
    return await withClient(admin.toString(), async (client) => {
      // No parameters, so node-postgres uses the simple protocol, the only one the admin console speaks.
      const { rows } = await client.query('SHOW CONFIG');
      return (rows as { key: string; value: string }[]).find((row) => row.key === 'pool_mode')?.value;
    });
  } catch {
    return undefined; // not PgBouncer, or no admin access: nothing to learn here
  }
}

export async function runLiveChecks(reports: ServiceReport[]): Promise<{ findings: Finding[]; budget?: Budget }> {
  const findings: Finding[] = [];
  let budget: Budget | undefined;
  const seen = new Set<string>();
  for (const report of reports) {
    for (const [label, url] of [
      ['DATABASE_URL', report.databaseUrl],
      ['DIRECT_URL', report.directUrl],
    ] as const) {
      if (!url || seen.has(url)) continue;
      seen.add(url);
      const address = buildPooledDatabaseConfig({ databaseUrl: url }).connectionString;
      try {
        await withClient(address, (client) => client.query('select 1'));
        findings.push({
          severity: 'info',
          code: 'LIVE_REACHABLE',
          service: report.service,
          message: `${label} ${maskSecretsInUrl(url)} answers.`,
          fix: 'Nothing to do.',
        });
      } catch (error) {
        findings.push({
          severity: 'error',
          code: 'LIVE_UNREACHABLE',
          service: report.service,
          message: `${label} ${maskSecretsInUrl(url)} does not answer: ${(error as Error).message}`,
          fix: 'Check host, port, credentials and network access.',
        });
        continue;
      }
      if (label === 'DATABASE_URL') {
        const actual = await pgbouncerPoolMode(address);
        if (actual && report.mode && report.mode !== 'direct' && actual !== report.mode) {
          findings.push({
            severity: 'error',
            code: 'LIVE_MODE_MISMATCH',
            service: report.service,
            message: `DATABASE_URL was classified as ${report.mode} but PgBouncer says pool_mode=${actual}.`,
            fix: 'Set DB_POOL_MODE to the real mode, or point DATABASE_URL at the transaction pooler.',
          });
        }
      }
      if (label === 'DIRECT_URL' && !budget) {
        try {
          const max = await withClient(address, async (client) => {
            const { rows } = await client.query("SELECT current_setting('max_connections')::int AS n");
            return rows[0].n as number;
          });
          budget = { connections: max, source: 'max_connections read over DIRECT_URL' };
        } catch {}
      }
    }
  }
  return { findings, budget };
}
