// The client worker through the gateway: CRUD, list parameters, object-level authorization, mass assignment.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let owner: Awaited<ReturnType<typeof registerUser>>;
let stranger: Awaited<ReturnType<typeof registerUser>>;
beforeAll(async () => {
  system = await startSystem();
  owner = await registerUser(system.gatewayUrl, 'owner');
  stranger = await registerUser(system.gatewayUrl, 'stranger');
});
afterAll(async () => {
  await system?.close();
});
const api = (method: string, path: string, token: string, body?: unknown) =>
  call(system.gatewayUrl, method, path, { token, body });

describe('CRUD', () => {
  test('create, read, update, delete', async () => {
    const created = await api('POST', '/api/v1/clients', owner.accessToken, {
      name: 'Initech',
      email: 'bill@initech.test',
      phone: '+1 555 0100',
      company: 'Initech',
      status: 'LEAD',
      notes: 'TPS reports',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Initech', status: 'LEAD', ownerId: owner.id });
    const id = created.body.id;

    expect((await api('GET', `/api/v1/clients/${id}`, owner.accessToken)).body.name).toBe('Initech');
    const patched = await api('PATCH', `/api/v1/clients/${id}`, owner.accessToken, { status: 'ACTIVE', notes: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ status: 'ACTIVE', notes: null, name: 'Initech' });

    const deleted = await api('DELETE', `/api/v1/clients/${id}`, owner.accessToken);
    expect(deleted.status).toBe(204);
    expect((await api('GET', `/api/v1/clients/${id}`, owner.accessToken)).status).toBe(404);
  });
});

describe('object-level authorization', () => {
  test('another user’s client is a 404 on read, update and delete, and is never changed', async () => {
    const mine = await api('POST', '/api/v1/clients', owner.accessToken, { name: 'Private Co' });
    const id = mine.body.id;
    for (const [method, body] of [['GET'], ['PATCH', { name: 'Hijacked' }], ['DELETE']] as const) {
      const response = await api(method, `/api/v1/clients/${id}`, stranger.accessToken, body);
      expect(response.status, method).toBe(404);
      expect(response.body.code).toBe('RESOURCE_NOT_FOUND');
    }
    const [row] = await sqlOnTestDatabase('SELECT name, owner_id FROM clients WHERE id = $1', [id]);
    expect(row).toEqual({ name: 'Private Co', owner_id: owner.id });
    const strangersList = await api('GET', '/api/v1/clients', stranger.accessToken);
    expect(strangersList.body.data.map((client: { id: string }) => client.id)).not.toContain(id);
  });

  test('only admins may list another owner’s clients', async () => {
    const refused = await api('GET', `/api/v1/clients?ownerId=${owner.id}`, stranger.accessToken);
    expect(refused.status).toBe(403);
    const ownId = await api('GET', `/api/v1/clients?ownerId=${stranger.id}`, stranger.accessToken);
    expect(ownId.status).toBe(200);

    const admin = await registerUser(system.gatewayUrl, 'clientadmin');
    await sqlOnTestDatabase("UPDATE users SET role = 'ADMIN' WHERE id = $1", [admin.id]);
    const login = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
      body: { email: admin.email, password: admin.password },
    });
    const asAdmin = await api('GET', `/api/v1/clients?ownerId=${owner.id}&limit=100`, login.body.accessToken);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.data.every((client: { ownerId: string }) => client.ownerId === owner.id)).toBe(true);
  });
});

describe('mass assignment and bad ids', () => {
  test('id, ownerId and timestamps are rejected with 400, never applied', async () => {
    for (const extra of [
      { id: '00000000-0000-4000-8000-000000000000' },
      { ownerId: stranger.id },
      { createdAt: '2000-01-01T00:00:00.000Z' },
      { updatedAt: '2000-01-01T00:00:00.000Z' },
    ]) {
      const created = await api('POST', '/api/v1/clients', owner.accessToken, { name: 'Sneaky', ...extra });
      expect(created.status, JSON.stringify(extra)).toBe(400);
      expect(created.body.code).toBe('VALIDATION_FAILED');
    }
    const real = await api('POST', '/api/v1/clients', owner.accessToken, { name: 'Real' });
    const moved = await api('PATCH', `/api/v1/clients/${real.body.id}`, owner.accessToken, { ownerId: stranger.id });
    expect(moved.status).toBe(400);
    const [row] = await sqlOnTestDatabase('SELECT owner_id FROM clients WHERE id = $1', [real.body.id]);
    expect(row.owner_id).toBe(owner.id);
  });

  test('ids are validated as UUIDs: 400, never a database error', async () => {
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const response = await api(
        method,
        "/api/v1/clients/1' OR '1'='1",
        owner.accessToken,
        method === 'PATCH' ? { name: 'x' } : undefined,
      );
      expect(response.status, method).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
  });

  test('invalid fields are 400', async () => {
    for (const body of [{}, { name: '' }, { name: 'x', status: 'VIP' }, { name: 'x', email: 'not an email' }]) {
      expect((await api('POST', '/api/v1/clients', owner.accessToken, body)).status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('the list', () => {
  let lister: Awaited<ReturnType<typeof registerUser>>;
  beforeAll(async () => {
    lister = await registerUser(system.gatewayUrl, 'lister');
    const rows = [
      { name: 'Alpha Corp', email: 'a@alpha.test', company: 'Alpha', status: 'ACTIVE' },
      { name: 'beta llc', email: 'hello@BETA.test', company: 'Beta', status: 'LEAD' },
      { name: 'Gamma', email: 'g@gamma.test', company: 'Umbrella Holdings', status: 'INACTIVE' },
      { name: 'Delta', email: null, company: null, status: 'ACTIVE' },
    ];
    for (const row of rows) await api('POST', '/api/v1/clients', lister.accessToken, row);
  });
  const names = (response: { body: { data: { name: string }[] } }) => response.body.data.map((client) => client.name);

  test('newest first by default, with page meta', async () => {
    const list = await api('GET', '/api/v1/clients', lister.accessToken);
    expect(names(list)).toEqual(['Delta', 'Gamma', 'beta llc', 'Alpha Corp']);
    expect(list.body.meta).toEqual({ page: 1, limit: 20, total: 4, totalPages: 1 });
  });

  test('totals stay right on partial pages, full pages and past the end', async () => {
    const full = await api('GET', '/api/v1/clients?page=1&limit=4', lister.accessToken);
    expect(full.body.meta).toEqual({ page: 1, limit: 4, total: 4, totalPages: 1 });
    const past = await api('GET', '/api/v1/clients?page=5&limit=3', lister.accessToken);
    expect(past.body.data).toEqual([]);
    expect(past.body.meta).toEqual({ page: 5, limit: 3, total: 4, totalPages: 2 });
    const filtered = await api('GET', '/api/v1/clients?status=LEAD', lister.accessToken);
    expect(filtered.body.meta.total).toBe(1);
  });

  test('pages do not overlap', async () => {
    const first = await api('GET', '/api/v1/clients?page=1&limit=3', lister.accessToken);
    const second = await api('GET', '/api/v1/clients?page=2&limit=3', lister.accessToken);
    expect(names(first)).toEqual(['Delta', 'Gamma', 'beta llc']);
    expect(names(second)).toEqual(['Alpha Corp']);
    expect(second.body.meta.totalPages).toBe(2);
  });

  test('search matches name, email and company, case-insensitively', async () => {
    expect(names(await api('GET', '/api/v1/clients?search=ALPHA', lister.accessToken))).toEqual(['Alpha Corp']);
    expect(names(await api('GET', '/api/v1/clients?search=beta.TEST', lister.accessToken))).toEqual(['beta llc']);
    expect(names(await api('GET', '/api/v1/clients?search=umbrella', lister.accessToken))).toEqual(['Gamma']);
    expect(names(await api('GET', '/api/v1/clients?search=%25', lister.accessToken))).toEqual([]);
  });

  test('status filter and the sort allowlist', async () => {
    expect(names(await api('GET', '/api/v1/clients?status=ACTIVE', lister.accessToken))).toEqual([
      'Delta',
      'Alpha Corp',
    ]);
    expect(names(await api('GET', '/api/v1/clients?sort=name', lister.accessToken))).toEqual([
      'Alpha Corp',
      'beta llc',
      'Delta',
      'Gamma',
    ]);
    expect(names(await api('GET', '/api/v1/clients?sort=-name', lister.accessToken))).toEqual([
      'Gamma',
      'Delta',
      'beta llc',
      'Alpha Corp',
    ]);
    expect(names(await api('GET', '/api/v1/clients?sort=createdAt', lister.accessToken))[0]).toBe('Alpha Corp');
    expect((await api('GET', '/api/v1/clients?sort=ownerId', lister.accessToken)).status).toBe(400);
  });
});
