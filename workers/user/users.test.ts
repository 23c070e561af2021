// The user worker through the gateway: own profile, password change, admin-only management.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let admin: Awaited<ReturnType<typeof registerUser>>;
beforeAll(async () => {
  system = await startSystem();
  admin = await registerUser(system.gatewayUrl, 'admin');
  await sqlOnTestDatabase("UPDATE users SET role = 'ADMIN' WHERE id = $1", [admin.id]);
  const login = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
    body: { email: admin.email, password: admin.password },
  });
  admin.accessToken = login.body.accessToken;
});
afterAll(async () => {
  await system?.close();
});
const api = (method: string, path: string, token?: string, body?: unknown) =>
  call(system.gatewayUrl, method, path, { token, body });

describe('own profile', () => {
  test('GET and PATCH /users/me, never showing the hash', async () => {
    const user = await registerUser(system.gatewayUrl, 'profile');
    const me = await api('GET', '/api/v1/users/me', user.accessToken);
    expect(me.status).toBe(200);
    expect(Object.keys(me.body).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'role', 'status', 'updatedAt']);
    const renamed = await api('PATCH', '/api/v1/users/me', user.accessToken, { name: '  Grace  ' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Grace');
  });

  test('role, status and email cannot be set by the user', async () => {
    const user = await registerUser(system.gatewayUrl, 'escalate');
    for (const body of [{ role: 'ADMIN' }, { status: 'ACTIVE' }, { email: 'x@y.z' }, {}]) {
      const response = await api('PATCH', '/api/v1/users/me', user.accessToken, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
    const [row] = await sqlOnTestDatabase('SELECT role FROM users WHERE id = $1', [user.id]);
    expect(row.role).toBe('USER');
  });

  test('a password change needs the current password and ends the other sessions', async () => {
    const user = await registerUser(system.gatewayUrl, 'password');
    const otherDevice = await api('POST', '/api/v1/auth/login', undefined, {
      email: user.email,
      password: user.password,
    });
    const missing = await api('PATCH', '/api/v1/users/me', user.accessToken, { password: 'a brand new password' });
    expect(missing.status).toBe(400);
    const wrong = await api('PATCH', '/api/v1/users/me', user.accessToken, {
      password: 'a brand new password',
      currentPassword: 'not it',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('AUTH_PASSWORD_INCORRECT');
    const changed = await api('PATCH', '/api/v1/users/me', user.accessToken, {
      password: 'a brand new password',
      currentPassword: user.password,
    });
    expect(changed.status).toBe(200);

    const otherRefresh = await api('POST', '/api/v1/auth/refresh', undefined, {
      refreshToken: otherDevice.body.refreshToken,
    });
    expect(otherRefresh.status).toBe(401);
    const ownRefresh = await api('POST', '/api/v1/auth/refresh', undefined, { refreshToken: user.refreshToken });
    expect(ownRefresh.status).toBe(200);
    const oldLogin = await api('POST', '/api/v1/auth/login', undefined, { email: user.email, password: user.password });
    expect(oldLogin.status).toBe(401);
    const newLogin = await api('POST', '/api/v1/auth/login', undefined, {
      email: user.email,
      password: 'a brand new password',
    });
    expect(newLogin.status).toBe(200);
  });
});

describe('admin user management', () => {
  test('non-admins get 403 FORBIDDEN on every admin route', async () => {
    const user = await registerUser(system.gatewayUrl, 'plain');
    for (const [method, path, body] of [
      ['GET', '/api/v1/users'],
      ['GET', `/api/v1/users/${admin.id}`],
      ['PATCH', `/api/v1/users/${admin.id}`, { role: 'USER' }],
    ] as const) {
      const response = await api(method, path, user.accessToken, body);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.code).toBe('FORBIDDEN');
    }
  });

  test('a forged ADMIN role in a token is refused (role is checked in the database)', async () => {
    const user = await registerUser(system.gatewayUrl, 'forge');
    const { signTestToken } = await import('../../tools/testing/helpers.ts');
    // The user's real, live session, so only the role claim is false.
    const { sid } = JSON.parse(Buffer.from(user.accessToken.split('.')[1] ?? '', 'base64url').toString());
    const forged = signTestToken({ sub: user.id, role: 'ADMIN', sid });
    const response = await api('GET', '/api/v1/users', forged);
    expect(response.status).toBe(403);
  });

  test('list with page, limit, search, role and status', async () => {
    const marker = `needle${Date.now().toString(36)}`;
    for (let i = 0; i < 3; i++) await registerUser(system.gatewayUrl, `${marker}-${i}`);
    const page = await api('GET', `/api/v1/users?search=${marker.toUpperCase()}&limit=2&page=1`, admin.accessToken);
    expect(page.status).toBe(200);
    expect(page.body.meta).toEqual({ page: 1, limit: 2, total: 3, totalPages: 2 });
    expect(page.body.data).toHaveLength(2);
    const admins = await api('GET', '/api/v1/users?role=ADMIN&limit=100', admin.accessToken);
    expect(admins.body.data.every((user: { role: string }) => user.role === 'ADMIN')).toBe(true);
    expect(admins.body.data.map((user: { id: string }) => user.id)).toContain(admin.id);
    const bad = await api('GET', '/api/v1/users?status=BANNED', admin.accessToken);
    expect(bad.status).toBe(400);
  });

  test('read one user; bad and unknown ids are 400 and 404', async () => {
    const user = await registerUser(system.gatewayUrl, 'one');
    const one = await api('GET', `/api/v1/users/${user.id}`, admin.accessToken);
    expect(one.body.email).toBe(user.email);
    expect((await api('GET', '/api/v1/users/not-a-uuid', admin.accessToken)).status).toBe(400);
    const unknown = await api('GET', '/api/v1/users/00000000-0000-4000-8000-000000000000', admin.accessToken);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('RESOURCE_NOT_FOUND');
  });

  test('disabling a user ends their sessions; promoting works; admins cannot lock themselves out', async () => {
    const user = await registerUser(system.gatewayUrl, 'tobedisabled');
    const disabled = await api('PATCH', `/api/v1/users/${user.id}`, admin.accessToken, { status: 'DISABLED' });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('DISABLED');
    const refresh = await api('POST', '/api/v1/auth/refresh', undefined, { refreshToken: user.refreshToken });
    expect(refresh.status).toBe(401);

    const promoted = await api('PATCH', `/api/v1/users/${user.id}`, admin.accessToken, { role: 'ADMIN' });
    expect(promoted.body.role).toBe('ADMIN');
    const self = await api('PATCH', `/api/v1/users/${admin.id}`, admin.accessToken, { role: 'USER' });
    expect(self.status).toBe(403);
    const extra = await api('PATCH', `/api/v1/users/${user.id}`, admin.accessToken, { passwordHash: 'x' });
    expect(extra.status).toBe(400);
  });
});
