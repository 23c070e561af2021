// Bad input from outside (review issue 11, findings 7, 11 and 12), through the gateway: ids that are
// not canonical, NUL bytes and foreign content types are refused with a 4xx in the error shape and
// never reach PostgreSQL (where they used to end as 500 INTERNAL_ERROR).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let owner: Awaited<ReturnType<typeof registerUser>>;
let clientId: string;
beforeAll(async () => {
  system = await startSystem();
  owner = await registerUser(system.gatewayUrl, 'bad-input');
  clientId = (await api('POST', '/api/v1/clients', { name: 'Canonical Co' })).body.id;
});
afterAll(async () => {
  await system?.close();
});
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  call(system.gatewayUrl, method, path, { token: owner.accessToken, body, headers });

/** The one error shape, with the status and code the contract promises. */
function expectRefused(response: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(Object.keys(response.body).sort()).toEqual(['code', 'error', 'message', 'requestId', 'statusCode']);
}

describe('ids are accepted only in canonical form', () => {
  test('a urn:uuid: id is a 400, not a 500 from PostgreSQL', async () => {
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const response = await api(
        method,
        `/api/v1/clients/urn:uuid:${clientId}`,
        method === 'PATCH' ? { name: 'x' } : undefined,
      );
      expectRefused(response, 400, 'VALIDATION_FAILED');
    }
  });

  test('an upper-case id is a 400 on read, update and delete (no second cache key, no second spelling)', async () => {
    const upper = clientId.toUpperCase();
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const response = await api(method, `/api/v1/clients/${upper}`, method === 'PATCH' ? { name: 'x' } : undefined);
      expectRefused(response, 400, 'VALIDATION_FAILED');
    }
    expectRefused(await api('GET', `/api/v1/clients?ownerId=${owner.id.toUpperCase()}`), 400, 'VALIDATION_FAILED');
    expectRefused(await api('GET', `/api/v1/clients?ownerId=urn:uuid:${owner.id}`), 400, 'VALIDATION_FAILED');
    const [row] = await sqlOnTestDatabase('SELECT name FROM clients WHERE id = $1', [clientId]);
    expect(row).toEqual({ name: 'Canonical Co' });
    expect((await api('GET', `/api/v1/clients/${clientId}`)).status).toBe(200);
  });
});

describe('the largest client the schema allows', () => {
  test('in four-byte characters, it is stored and found, never an index-row error', async () => {
    const wide = (length: number) => '\u{1F600}'.repeat(length); // each one character, four bytes in UTF-8
    const body = { name: wide(200), company: wide(200), email: `${wide(120)}@${wide(133)}` };
    const created = await api('POST', '/api/v1/clients', body);
    expect(created.status).toBe(201);
    const found = await api('GET', `/api/v1/clients?search=${encodeURIComponent(wide(3))}&limit=5`);
    expect(found.status).toBe(200);
    expect(found.body.data.map((client: { id: string }) => client.id)).toContain(created.body.id);
    expect((await api('DELETE', `/api/v1/clients/${created.body.id}`)).status).toBe(204); // the others count this owner's rows
  });
});

describe('NUL bytes never reach PostgreSQL', () => {
  test('in a query string', async () => {
    expectRefused(await api('GET', '/api/v1/clients?search=%00'), 400, 'VALIDATION_FAILED');
    expectRefused(await api('GET', '/api/v1/clients?search=a%00b&limit=5'), 400, 'VALIDATION_FAILED');
  });

  test('nor any other control character in a search (the folded search copy joins fields with U+001F)', async () => {
    for (const search of ['a%1Fb', '%1F', 'tab%09bed', 'del%7F']) {
      expectRefused(await api('GET', `/api/v1/clients?search=${search}`), 400, 'VALIDATION_FAILED');
    }
    expect((await api('GET', '/api/v1/clients?search=caf%C3%A9%20co')).status).toBe(200);
  });

  test('in a body, on create and on update, in any field', async () => {
    expectRefused(await api('POST', '/api/v1/clients', { name: 'nul\u0000byte' }), 400, 'VALIDATION_FAILED');
    expectRefused(await api('POST', '/api/v1/clients', { name: 'ok', notes: 'a\u0000' }), 400, 'VALIDATION_FAILED');
    expectRefused(await api('PATCH', `/api/v1/clients/${clientId}`, { company: '\u0000' }), 400, 'VALIDATION_FAILED');
    const rows = await sqlOnTestDatabase('SELECT count(*)::int AS n FROM clients WHERE owner_id = $1', [owner.id]);
    expect(rows[0].n).toBe(1);
  });

  test('in a path parameter', async () => {
    expectRefused(await api('GET', '/api/v1/clients/%00'), 400, 'VALIDATION_FAILED');
  });

  test('on routes of other workers too (the rule is the service base, not each schema)', async () => {
    const register = await call(system.gatewayUrl, 'POST', '/api/v1/auth/register', {
      body: { email: `nul-${Date.now()}@example.test`, password: 'a long enough password', name: 'a\u0000b' },
    });
    expectRefused(register, 400, 'VALIDATION_FAILED');
    const login = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
      body: { email: `a\u0000b@example.test`, password: 'whatever it is' },
    });
    expectRefused(login, 400, 'VALIDATION_FAILED');
    const rename = await call(system.gatewayUrl, 'PATCH', '/api/v1/users/me', {
      token: owner.accessToken,
      body: { name: 'x\u0000' },
    });
    expectRefused(rename, 400, 'VALIDATION_FAILED');
  });
});

describe('content types', () => {
  test('a text/plain body on a JSON route is 415 UNSUPPORTED_MEDIA_TYPE, as the README promises', async () => {
    const response = await api('POST', '/api/v1/clients', '{"name":"typed"}', { 'content-type': 'text/plain' });
    expectRefused(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const patch = await api('PATCH', `/api/v1/clients/${clientId}`, 'name=x', { 'content-type': 'text/plain' });
    expectRefused(patch, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('application/json with a charset is still accepted', async () => {
    const response = await api(
      'POST',
      '/api/v1/clients',
      { name: 'Charset Co' },
      {
        'content-type': 'application/json; charset=utf-8',
      },
    );
    expect(response.status).toBe(201);
  });
});
