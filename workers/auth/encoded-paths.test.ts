// A percent-encoded API path is refused by a worker reached directly, as it is at the gateway: the
// credential limit compares paths, and `/api/v1/auth/logi%6E` would otherwise be served as login.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { FastifyInstance } from 'fastify';
import { startWorker } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let auth: FastifyInstance;
beforeAll(async () => {
  auth = await startWorker('auth');
});
afterAll(() => auth?.close());

test('the auth worker refuses /api/v1/auth/logi%6E with 400 VALIDATION_FAILED', async () => {
  const response = await auth.inject({
    method: 'POST',
    url: '/api/v1/auth/logi%6E',
    payload: { email: 'nobody@example.test', password: 'whatever it is' },
  });
  expect(response.statusCode).toBe(400);
  expect(response.json().code).toBe('VALIDATION_FAILED');
});
