// SIGTERM during a burst: a real worker process stops accepting, finishes what it started, closes its
// pool and exits 0, and PostgreSQL shows none of its connections afterwards.
import { beforeAll, describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { findFreePort, waitForPort } from '../../tools/stack/processes.ts';
import { createTestSession, sqlOnTestDatabase, testKeys } from '../../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../../tools/testing/test-stack.ts';
import { REPOSITORY_ROOT } from '../env.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

describe('graceful shutdown', () => {
  test('SIGTERM mid-burst: nothing is cut off, exit 0, no connection left in PostgreSQL', async () => {
    const port = await findFreePort();
    const applicationName = `poolwise-shutdown-${port}`;
    const direct = new URL(testStack().directUrl);
    direct.searchParams.set('application_name', applicationName);
    const worker = spawn('bun', ['--no-env-file', join(REPOSITORY_ROOT, 'workers/client/server.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        CLIENT_PORT: String(port),
        DATABASE_URL: direct.toString(),
        DB_POOL_MODE: 'direct',
        DB_POOL_SIZE: '2',
        CACHE_ENABLED: 'false',
        JWT_PUBLIC_KEY: testKeys.publicKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    await waitForPort(port, 'client worker', 15_000, worker);

    const { token } = await createTestSession('shutdown');
    const url = `http://127.0.0.1:${port}/api/v1/clients?limit=100`;
    const outcomes = Array.from({ length: 200 }, () =>
      fetch(url, { headers: { authorization: `Bearer ${token}` } }).then(
        async (response) => ({ status: response.status, body: await response.text() }),
        (error: Error & { code?: string }) => ({ status: 0, body: error.code ?? error.message }),
      ),
    );
    await Promise.race(outcomes); // the burst is under way: some answered, most still in flight
    worker.kill('SIGTERM');
    const results = await Promise.all(outcomes);

    expect(await exited).toBe(0);
    const tally = results.reduce<Record<string, number>>((counts, result) => {
      const key = result.status === 0 ? result.body : String(result.status);
      counts[key] = (counts[key] ?? 0) + 1;
      return counts;
    }, {});
    console.info(`[shutdown] outcomes of 200 requests around SIGTERM: ${JSON.stringify(tally)}`);
    const answered = results.filter((result) => result.status === 200);
    expect(answered.length).toBeGreaterThan(0);
    for (const result of answered) expect(JSON.parse(result.body).meta).toBeDefined(); // whole bodies
    // Anything else was refused before it started (connection refused, or 503 while closing), never cut off.
    const others = results.filter((result) => result.status !== 200);
    for (const result of others) expect([503, 0]).toContain(result.status);
    for (const result of others.filter((r) => r.status === 0)) expect(result.body).toBe('ConnectionRefused');
    for (const result of others.filter((r) => r.status === 503))
      expect(JSON.parse(result.body).code).toBe('SERVICE_CLOSING');

    const left = await sqlOnTestDatabase(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    expect(left[0].n).toBe(0);
  }, 30_000);
});
