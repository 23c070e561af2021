// `bun run doctor` as a user runs it: on the incident's setup (a fixture repository), and `--live`
// against the real test stack.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { configFixture, removeConfigFixtures } from '../testing/config-fixture.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../testing/test-stack.ts';
import type { Finding } from './findings.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);
afterAll(removeConfigFixtures);

const POOLER = 'aws-0-eu-central-1.pooler.supabase.com';
const TX = `postgresql://app:pw@${POOLER}:6543/postgres`;
const SESSION = `postgresql://app:pw@${POOLER}:5432/postgres`;
const healthy = `DATABASE_URL=${TX}\nDIRECT_URL=${SESSION}\nDB_POOL_SIZE=2\nDB_POOL_TIMEOUT=10\n`;

function runDoctor(args: string[]) {
  const result = Bun.spawnSync(['bun', '--no-env-file', join(REPOSITORY_ROOT, 'tools/doctor/doctor-cli.ts'), ...args], {
    env: { PATH: process.env.PATH ?? '' },
  });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

describe('bun run doctor', () => {
  test('on the incident’s setup (with a local override) exits 1 and says why, passwords masked', () => {
    const root = configFixture({
      '.env': `${healthy}AUTH_REPLICAS=3\nCLIENT_REPLICAS=3\nDB_CONNECTION_BUDGET=15\n`,
      'workers/client/.env': `DATABASE_URL=${SESSION}?pgbouncer=true\n`,
    });
    const text = runDoctor(['--root', root]);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain('workers/client/.env overrides DATABASE_URL from .env');
    expect(text.stdout).toContain('SESSION POOLER');
    expect(text.stdout).not.toContain(':pw@');

    const json = runDoctor(['--root', root, '--json']);
    const report = JSON.parse(json.stdout);
    expect(report.errors).toBeGreaterThan(0);
    expect(report.findings.map((finding: Finding) => finding.code)).toEqual(
      expect.arrayContaining(['LOCAL_OVERRIDE', 'RUNTIME_ON_SESSION_POOLER', 'POOLS_OVER_BUDGET', 'PGBOUNCER_FLAG']),
    );
    expect(report.services.find((service: { service: string }) => service.service === 'client').databaseUrlSource).toBe(
      'workers/client/.env',
    );
  });

  test('--live connects, confirms the pooler mode with PgBouncer and reads the budget', () => {
    const stack = testStack();
    const root = configFixture({
      '.env': `DATABASE_URL=${stack.pooledUrl}\nDIRECT_URL=${stack.directUrl}\nDB_POOL_MODE=transaction\nDB_POOL_TIMEOUT=5\n`,
    });
    const result = runDoctor(['--root', root, '--json', '--live']);
    const report = JSON.parse(result.stdout);
    expect(result.exitCode).toBe(0);
    expect(report.findings.filter((finding: Finding) => finding.code === 'LIVE_REACHABLE')).toHaveLength(2);
    expect(report.budget.source).toBe('max_connections read over DIRECT_URL');
    expect(report.budget.connections).toBeGreaterThan(0);
  });

  test('--live catches a pooler whose real mode differs from the classification', () => {
    const stack = testStack();
    const root = configFixture({
      '.env': `DATABASE_URL=${stack.pooledUrl}\nDIRECT_URL=${stack.directUrl}\nDB_POOL_MODE=session\nDB_POOL_TIMEOUT=5\n`,
    });
    const report = JSON.parse(runDoctor(['--root', root, '--json', '--live']).stdout);
    expect(report.findings.map((finding: Finding) => finding.code)).toContain('LIVE_MODE_MISMATCH');
  });
});
