// End to end through the gateway against the real stack: PostgreSQL behind a transaction-mode PgBouncer.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { uniqueEmail } from '../tools/testing/helpers.ts';
import { call, type RunningSystem, startSystem } from '../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.close();
});

describe('walking slice: register, log in, list clients', () => {
  test('the incident’s client list answers 200 with the Bearer token from login', async () => {
    const email = uniqueEmail('slice');
    const registered = await call(system.gatewayUrl, 'POST', '/api/v1/auth/register', {
      body: { email: `  ${email.toUpperCase()} `, password: 'correct horse battery', name: 'Ada' },
    });
    expect(registered.status).toBe(201);
    expect(registered.body.user.email).toBe(email);
    expect(registered.body.user).not.toHaveProperty('passwordHash');
    expect(registered.body.expiresIn).toBe(900);

    const login = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
      body: { email, password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
    const token = login.body.accessToken as string;

    const created = await call(system.gatewayUrl, 'POST', '/api/v1/clients', {
      token,
      body: { name: 'Acme Ltd', email: 'ops@acme.test', company: 'Acme' },
    });
    expect(created.status).toBe(201);
    expect(created.body.ownerId).toBe(login.body.user.id);

    const list = await call(system.gatewayUrl, 'GET', '/api/v1/clients?page=1&limit=20', { token });
    expect(list.status).toBe(200);
    expect(list.body.meta).toEqual({ page: 1, limit: 20, total: 1, totalPages: 1 });
    expect(list.body.data[0].name).toBe('Acme Ltd');

    const me = await call(system.gatewayUrl, 'GET', '/api/v1/auth/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(login.body.user.id);
  });

  test('x-request-id is kept from the caller, or generated, and comes back', async () => {
    const kept = await call(system.gatewayUrl, 'GET', '/api/v1/clients', {
      headers: { 'x-request-id': 'trace-abc-123' },
    });
    expect(kept.headers.get('x-request-id')).toBe('trace-abc-123');
    expect(kept.body.requestId).toBe('trace-abc-123');
    const generated = await call(system.gatewayUrl, 'GET', '/api/v1/clients', {
      headers: { 'x-request-id': 'has spaces and <script>' },
    });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('refusals in the one error shape', () => {
  test('no token: 401 from the gateway, before any worker is asked', async () => {
    const response = await call(system.gatewayUrl, 'GET', '/api/v1/clients');
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      statusCode: 401,
      code: 'AUTH_REQUIRED',
      error: 'Unauthorized',
      message: 'A Bearer access token is required',
      requestId: expect.any(String),
    });
  });

  test('a tampered token is rejected', async () => {
    const registered = await call(system.gatewayUrl, 'POST', '/api/v1/auth/register', {
      body: { email: uniqueEmail('tamper'), password: 'long enough pass', name: 'Eve' },
    });
    const [header, payload, signature] = (registered.body.accessToken as string).split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'ADMIN' })).toString('base64url');
    const response = await call(system.gatewayUrl, 'GET', '/api/v1/clients', {
      token: `${header}.${forged}.${signature}`,
    });
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('AUTH_TOKEN_INVALID');
  });

  test('wrong password and unknown email give the same 401', async () => {
    const email = uniqueEmail('login');
    await call(system.gatewayUrl, 'POST', '/api/v1/auth/register', {
      body: { email, password: 'the right one', name: 'Bo' },
    });
    const wrongPassword = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
      body: { email, password: 'the wrong one' },
    });
    const unknownEmail = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
      body: { email: uniqueEmail('nobody'), password: 'the wrong one' },
    });
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(wrongPassword.body.code).toBe('AUTH_INVALID_CREDENTIALS');
    expect(unknownEmail.body.message).toBe(wrongPassword.body.message);
  });

  test('bad input is a 4xx with a code, never a 500', async () => {
    const short = await call(system.gatewayUrl, 'POST', '/api/v1/auth/register', {
      body: { email: uniqueEmail(), password: 'short', name: 'X' },
    });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe('VALIDATION_FAILED');

    const malformed = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', { body: '{"email":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('INVALID_JSON');

    const wrongType = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
      body: 'email=a@b.c',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    const taken = uniqueEmail('taken');
    await call(system.gatewayUrl, 'POST', '/api/v1/auth/register', {
      body: { email: taken, password: 'long enough', name: 'A' },
    });
    const again = await call(system.gatewayUrl, 'POST', '/api/v1/auth/register', {
      body: { email: taken.toUpperCase(), password: 'long enough', name: 'A' },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('AUTH_EMAIL_TAKEN');
  });

  test('list parameters outside the allowed ranges are a 400', async () => {
    const { body } = await call(system.gatewayUrl, 'POST', '/api/v1/auth/register', {
      body: { email: uniqueEmail('params'), password: 'long enough', name: 'P' },
    });
    for (const query of ['limit=0', 'limit=101', 'page=0', 'sort=password', 'page=abc']) {
      const response = await call(system.gatewayUrl, 'GET', `/api/v1/clients?${query}`, { token: body.accessToken });
      expect(response.status, query).toBe(400);
      expect(response.body.code, query).toBe('VALIDATION_FAILED');
    }
  });

  test('unknown routes are a 404 in the error shape', async () => {
    const response = await call(system.gatewayUrl, 'GET', '/nope');
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('NOT_FOUND');
  });
});

describe('the public OpenAPI document', () => {
  test('covers every API route (health routes are for probes: hidden), with the shared schemas by name', async () => {
    const response = await call(system.gatewayUrl, 'GET', '/openapi.json');
    expect(response.status).toBe(200);
    const operations = Object.entries(response.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'POST /api/v1/auth/register',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/refresh',
        'POST /api/v1/auth/logout',
        'GET /api/v1/auth/me',
        'GET /api/v1/users/me',
        'PATCH /api/v1/users/me',
        'GET /api/v1/users',
        'GET /api/v1/users/{id}',
        'PATCH /api/v1/users/{id}',
        'GET /api/v1/clients',
        'POST /api/v1/clients',
        'GET /api/v1/clients/{id}',
        'PATCH /api/v1/clients/{id}',
        'DELETE /api/v1/clients/{id}',
      ].sort(),
    );
    expect(Object.keys(response.body.components.schemas)).toEqual(
      expect.arrayContaining(['ErrorBody', 'PublicUser', 'Client']),
    );
    expect(response.body['x-unavailable-services']).toBeUndefined();
  });
});
