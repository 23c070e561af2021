// The check every end-to-end answer goes through (contract-check.ts), against the document a running
// system serves: it lets real answers through and refuses what the document does not allow, a status
// it does not list, a required header missing, a code or a format the schema refuses, a body off shape.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { assertDocumentedAnswer } from './contract-check.ts';
import { call, type RunningSystem, registerUser, startSystem } from './running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from './test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem();
}, 60_000);
afterAll(() => system?.close());

const error = (statusCode: number, code: string) => ({
  statusCode,
  code,
  error: 'Error',
  message: 'm',
  requestId: 'r',
});
const check = (method: string, path: string, status: number, body: unknown, headers: Record<string, string> = {}) =>
  assertDocumentedAnswer(system.gatewayUrl, method, path, {
    status,
    headers: new Headers({ 'x-request-id': 'r', ...headers }),
    body,
  });

describe('answers checked against the served document', () => {
  test('real answers pass, a refusal and a success alike', async () => {
    expect((await call(system.gatewayUrl, 'GET', '/api/v1/clients')).status).toBe(401);
    const user = await registerUser(system.gatewayUrl, 'contract');
    expect((await call(system.gatewayUrl, 'GET', '/api/v1/clients', { token: user.accessToken })).status).toBe(200);
  });

  test('a status the operation does not document is refused', async () => {
    await expect(check('POST', '/api/v1/clients', 418, error(418, 'TEAPOT'))).rejects.toThrow(
      'undocumented answer: POST /api/v1/clients → 418 (createClient)',
    );
  });

  test('a 429 or 503 without Retry-After is refused; with it, it passes', async () => {
    await expect(check('GET', '/api/v1/clients', 429, error(429, 'RATE_LIMITED'))).rejects.toThrow(
      'must have required header Retry-After',
    );
    await expect(check('GET', '/api/v1/clients', 503, error(503, 'DB_POOL_TIMEOUT'))).rejects.toThrow(
      'must have required header Retry-After',
    );
    await check('GET', '/api/v1/clients', 503, error(503, 'DB_POOL_TIMEOUT'), { 'retry-after': '1' });
  });

  test('an answer without its request id is refused', async () => {
    await expect(
      assertDocumentedAnswer(system.gatewayUrl, 'GET', '/api/v1/clients', {
        status: 401,
        headers: new Headers(),
        body: error(401, 'AUTH_REQUIRED'),
      }),
    ).rejects.toThrow('must have required header X-Request-Id');
  });

  test('an error code the status does not allow is refused', async () => {
    await expect(check('GET', '/api/v1/clients', 503, error(503, 'TEAPOT'), { 'retry-after': '1' })).rejects.toThrow(
      'must be equal to one of the allowed values',
    );
  });

  test('a body off its schema is refused, formats included', async () => {
    await expect(check('GET', '/api/v1/clients', 200, { data: [] })).rejects.toThrow(
      "must have required property 'meta'",
    );
    const client = {
      id: 'not-a-uuid',
      ownerId: '6e8a79c4-5c44-4be8-a4ad-f3b8e923c2da',
      name: 'Acme',
      email: null,
      phone: null,
      company: null,
      status: 'LEAD',
      notes: null,
      createdAt: '2026-11-28T10:06:58.438Z',
      updatedAt: '2026-11-28T10:06:58.438Z',
    };
    await expect(check('GET', `/api/v1/clients/${client.ownerId}`, 200, client)).rejects.toThrow(
      'must match format "uuid"',
    );
  });

  test('what the document does not describe (unknown routes, health) is not checked', async () => {
    await check('GET', '/api/v1/nowhere', 404, error(404, 'NOT_FOUND'));
    await check('GET', '/health', 200, { status: 'ok' });
  });
});
