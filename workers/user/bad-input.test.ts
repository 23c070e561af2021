// Review issue 11, finding 7, on the user worker: an id in another spelling (upper case, urn:uuid:)
// must not slip past the admin's self-lockout guard, nor read a user under a second cache key.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let admin: Awaited<ReturnType<typeof registerUser>>;
beforeAll(async () => {
  system = await startSystem();
  admin = await registerUser(system.gatewayUrl, 'admin-ids');
  await sqlOnTestDatabase("UPDATE users SET role = 'ADMIN' WHERE id = $1", [admin.id]);
  const login = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
    body: { email: admin.email, password: admin.password },
  });
  admin.accessToken = login.body.accessToken;
});
afterAll(async () => {
  await system?.close();
});
const api = (method: string, path: string, body?: unknown) =>
  call(system.gatewayUrl, method, path, { token: admin.accessToken, body });

describe('user ids are accepted only in canonical form', () => {
  test('an admin cannot demote or disable themselves by spelling their id in upper case', async () => {
    for (const body of [{ role: 'USER' }, { status: 'DISABLED' }]) {
      const response = await api('PATCH', `/api/v1/users/${admin.id.toUpperCase()}`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
    const [row] = await sqlOnTestDatabase('SELECT role, status FROM users WHERE id = $1', [admin.id]);
    expect(row).toEqual({ role: 'ADMIN', status: 'ACTIVE' });
    // The canonical spelling still meets the guard.
    expect((await api('PATCH', `/api/v1/users/${admin.id}`, { role: 'USER' })).body.code).toBe('FORBIDDEN');
  });

  test('another spelling of an id cannot be read (so it cannot be cached under a key updates never clear)', async () => {
    const user = await registerUser(system.gatewayUrl, 'spelled');
    for (const spelling of [user.id.toUpperCase(), `urn:uuid:${user.id}`, `{${user.id}}`]) {
      const response = await api('GET', `/api/v1/users/${encodeURIComponent(spelling)}`);
      expect(response.status, spelling).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
    await api('PATCH', `/api/v1/users/${user.id}`, { status: 'DISABLED' });
    expect((await api('GET', `/api/v1/users/${user.id}`)).body.status).toBe('DISABLED');
  });
});
