import { afterEach, beforeAll, describe, expect, test } from 'bun:test';
import type { FastifyInstance } from 'fastify';
import { captureLogs, createTestSession, testConfig, testKeys } from '../../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';
import { buildApp as buildClientWorker } from '../../workers/client/app.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function clientWorker(overrides: Record<string, string | undefined>, logger = captureLogs().logger) {
  const app = await buildClientWorker({
    config: testConfig('client', overrides),
    keys: { publicKey: testKeys.publicKey },
    loggerInstance: logger,
  });
  apps.push(app);
  return app;
}

describe('the pooled database at start', () => {
  test('logs the incident report’s line for the transaction pooler', async () => {
    const logs = captureLogs();
    await clientWorker({ DB_POOL_SIZE: '2', DB_POOL_TIMEOUT: '30', DB_POOL_MODE: 'transaction' }, logs.logger);
    expect(logs.messages()).toContain(
      '[ClientService] Using TRANSACTION POOLER (PgBouncer) connection (pool: 2, timeout: 30s)',
    );
  });

  test('a session-mode address is refused in production, naming the transaction pooler as the fix', async () => {
    const attempt = clientWorker({
      NODE_ENV: 'production',
      DB_POOL_MODE: undefined,
      DATABASE_URL: 'postgresql://app:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres',
      DIRECT_URL: 'postgresql://app:pw@db.abcdefgh.supabase.co:5432/postgres',
    });
    await expect(attempt).rejects.toThrow(/SESSION-mode pooler.*port 6543/s);
  });

  test('and warned about loudly in development', async () => {
    const logs = captureLogs();
    await clientWorker(
      {
        NODE_ENV: 'development',
        DB_POOL_MODE: undefined,
        DATABASE_URL: 'postgresql://app:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres',
      },
      logs.logger,
    );
    const warning = logs.lines.find((line) => line.level === 40 && line.msg.includes('SESSION-mode'));
    expect(warning?.msg).toContain('port 6543');
    expect(logs.messages()).toContain('[ClientService] Using SESSION POOLER connection (pool: 2, timeout: 5s)');
  });

  test('pgbouncer=true in the URL is removed with a note', async () => {
    const logs = captureLogs();
    const app = await clientWorker({ DB_POOL_MODE: 'transaction' }, logs.logger);
    expect(app.db.config.connectionString).not.toContain('pgbouncer');
    const withFlag = await clientWorker(
      { DATABASE_URL: `${app.db.config.connectionString}?pgbouncer=true` },
      logs.logger,
    );
    expect(withFlag.db.config.connectionString).not.toContain('pgbouncer');
    expect(logs.messages().some((message) => message.startsWith('pgbouncer=true removed'))).toBe(true);
  });
});

describe('pool exhaustion', () => {
  test('a request that cannot get a connection in time gets 503 DB_POOL_TIMEOUT with Retry-After, not a hang', async () => {
    const app = await clientWorker({ DB_POOL_SIZE: '1', DB_POOL_TIMEOUT: '0.3' });
    const { token: signed } = await createTestSession('poolexhaustion');
    const held = await app.db.pool.connect(); // the only connection, taken and not given back
    try {
      const started = performance.now();
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/clients',
        headers: { authorization: `Bearer ${signed}` },
      });
      const elapsed = performance.now() - started;
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toMatchObject({ statusCode: 503, code: 'DB_POOL_TIMEOUT' });
      expect(elapsed).toBeLessThan(5_000); // bounded by the 0.3 s acquire timeout, never a hang
    } finally {
      held.release();
    }
    const afterRelease = await app.inject({
      method: 'GET',
      url: '/api/v1/clients',
      headers: { authorization: `Bearer ${signed}` },
    });
    expect(afterRelease.statusCode).toBe(200);
  });
});
