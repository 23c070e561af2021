// Every doctor finding, from fixture configurations: pure, no servers (the CLI is doctor-cli.test.ts).
import { afterAll, describe, expect, test } from 'bun:test';
import { configFixture, removeConfigFixtures } from '../testing/config-fixture.ts';
import { collectWorkerReports } from './collect.ts';
import { diagnose, type Finding } from './findings.ts';

afterAll(removeConfigFixtures);

const POOLER = 'aws-0-eu-central-1.pooler.supabase.com';
const TX = `postgresql://app:pw@${POOLER}:6543/postgres`;
const SESSION = `postgresql://app:pw@${POOLER}:5432/postgres`;
function findingsFor(files: Record<string, string>, budget?: number): Finding[] {
  const rootDir = configFixture(files);
  const reports = collectWorkerReports({ rootDir, processEnv: {} }).map((entry) => entry.report);
  return diagnose(reports, budget ? { connections: budget, source: 'test' } : undefined);
}
const codes = (findings: Finding[]) =>
  findings.map((finding) => `${finding.severity}:${finding.code}${finding.service ? `:${finding.service}` : ''}`);
const healthy = `DATABASE_URL=${TX}\nDIRECT_URL=${SESSION}\nDB_POOL_SIZE=2\nDB_POOL_TIMEOUT=10\n`;

describe('doctor findings', () => {
  test('a healthy setup has no errors or warnings', () => {
    expect(codes(findingsFor({ '.env': healthy }, 50))).toEqual([]);
  });

  test('runtime on a session-mode address is an error naming the transaction pooler', () => {
    const findings = findingsFor({ '.env': healthy.replace(TX, SESSION) }, 50);
    expect(codes(findings)).toContain('error:RUNTIME_ON_SESSION_POOLER:client');
    expect(findings.find((finding) => finding.code === 'RUNTIME_ON_SESSION_POOLER')?.fix).toContain('6543');
  });

  test('pools × replicas + headroom over the budget is an error', () => {
    const files = { '.env': `${healthy}CLIENT_REPLICAS=4\n` }; // 2+2+8 = 12, + 3 headroom = 15
    expect(codes(findingsFor(files, 15))).not.toContain('error:POOLS_OVER_BUDGET');
    expect(codes(findingsFor(files, 14))).toContain('error:POOLS_OVER_BUDGET');
    expect(codes(findingsFor(files))).toContain('info:BUDGET_UNKNOWN');
  });

  test('pgbouncer=true is reported', () => {
    expect(codes(findingsFor({ '.env': healthy.replace(TX, `${TX}?pgbouncer=true`) }, 50))).toContain(
      'info:PGBOUNCER_FLAG:auth',
    );
  });

  test('DIRECT_URL missing is a warning; equal to the transaction pooler is an error', () => {
    expect(codes(findingsFor({ '.env': healthy.replace(`DIRECT_URL=${SESSION}\n`, '') }, 50))).toContain(
      'warning:DIRECT_URL_MISSING:user',
    );
    expect(codes(findingsFor({ '.env': healthy.replace(`DIRECT_URL=${SESSION}`, `DIRECT_URL=${TX}`) }, 50))).toContain(
      'error:DIRECT_URL_IS_POOLED:user',
    );
  });

  test('an unset acquire timeout is reported', () => {
    expect(codes(findingsFor({ '.env': healthy.replace('DB_POOL_TIMEOUT=10\n', '') }, 50))).toContain(
      'info:ACQUIRE_TIMEOUT_DEFAULT:client',
    );
  });

  test('REDIS_URL on the database host is a warning', () => {
    expect(codes(findingsFor({ '.env': `${healthy}REDIS_URL=redis://${POOLER}:6379\n` }, 50))).toContain(
      'warning:REDIS_ON_DATABASE_HOST:auth',
    );
  });

  test('a service .env overriding the root .env is a warning naming both files', () => {
    const findings = findingsFor(
      { '.env': healthy, 'workers/user/.env': `DATABASE_URL=${TX}?connection_limit=9\n` },
      50,
    );
    const override = findings.find((finding) => finding.code === 'LOCAL_OVERRIDE');
    expect(override?.service).toBe('user');
    expect(override?.message).toBe('workers/user/.env overrides DATABASE_URL from .env.');
    expect(codes(findings)).toContain('warning:POOL_SETTING_CONFLICT:user');
  });

  test('invalid configuration is an error; no DATABASE_URL at all is the dev default', () => {
    expect(codes(findingsFor({ '.env': `${healthy}DB_POOL_SIZE=500\n` }, 50))).toContain('error:CONFIG_INVALID:auth');
    expect(codes(findingsFor({ '.env': 'DB_POOL_SIZE=2\n' }))).toContain('info:DATABASE_URL_UNSET:auth');
  });
});
