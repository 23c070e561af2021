// Review issue 11, finding 10, end to end: a worker started with a password in DATABASE_URL's query
// (`?password=`, `?sslpassword=`) logs its start-up lines without it.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { FastifyInstance } from 'fastify';
import { captureLogs, testConfig, testKeys } from '../../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../../tools/testing/test-stack.ts';
import { buildApp as buildClientWorker } from '../../workers/client/app.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let app: FastifyInstance | undefined;
afterAll(async () => {
  await app?.close();
});

test('no start-up line carries a password given in the query string', async () => {
  const url = new URL(testStack().pooledUrl);
  const password = decodeURIComponent(url.password) || 'query-password-not-needed-by-trust-auth';
  url.password = '';
  url.searchParams.set('password', password);
  url.searchParams.set('sslpassword', 'query-sslpassword');
  const logs = captureLogs();
  app = await buildClientWorker({
    config: testConfig('client', { DATABASE_URL: url.toString() }),
    keys: { publicKey: testKeys.publicKey },
    loggerInstance: logs.logger,
  });
  await app.ready();
  const poolLine = logs.lines.find((line) => line.msg.includes('Using TRANSACTION POOLER'));
  expect(poolLine?.address).toContain('password=****');
  const everything = JSON.stringify(logs.lines);
  expect(everything).not.toContain(password);
  expect(everything).not.toContain('query-sslpassword');
  // The password still reaches pg: the worker can use its database.
  expect(await app.db.prisma.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
});
