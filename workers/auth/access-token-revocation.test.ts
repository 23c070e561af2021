// Access tokens already issued stop working when their session ends: logout, an admin disabling the
// account, a password change (other sessions), a refresh-token reuse. Checked at every worker and through
// the gateway, including a client-list page the gateway had been answering from its edge cache, with
// the same unexpired token. The window is "the next request after the revoking answer" with Redis, with
// the in-process cache, and with Redis down.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type RunningRedis, startRedis } from '../../tools/stack/redis.ts';
import { sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let admin: { accessToken: string };
beforeAll(async () => {
  system = await startSystem();
  const registered = await registerUser(system.gatewayUrl, 'revokeadmin');
  await sqlOnTestDatabase("UPDATE users SET role = 'ADMIN' WHERE id = $1", [registered.id]);
  const login = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
    body: { email: registered.email, password: registered.password },
  });
  admin = { accessToken: login.body.accessToken };
});
afterAll(async () => {
  await system?.close();
});

const LIST = '/api/v1/clients';

/** Reads the list until the gateway answers it from its edge cache. */
async function warmEdge(target: RunningSystem, token: string) {
  for (let i = 0; i < 50; i++) {
    if ((await call(target.gatewayUrl, 'GET', LIST, { token })).headers.get('x-cache') === 'hit') return;
    await Bun.sleep(20);
  }
  throw new Error('the list never became an edge-cache hit');
}

async function login(target: RunningSystem, user: { email: string; password: string }) {
  const response = await call(target.gatewayUrl, 'POST', '/api/v1/auth/login', {
    body: { email: user.email, password: user.password },
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status}`);
  return { accessToken: response.body.accessToken as string, refreshToken: response.body.refreshToken as string };
}

/**
 * Every way the token could still be honoured: through the gateway (edge-cached list, profile) and at
 * each worker directly (no trust in the gateway). Returns the answers as `path → status code`.
 */
async function everywhere(target: RunningSystem, token: string) {
  const headers = { authorization: `Bearer ${token}` };
  const answers: Record<string, string> = {};
  for (const path of [LIST, '/api/v1/auth/me', '/api/v1/users/me']) {
    const response = await call(target.gatewayUrl, 'GET', path, { token });
    answers[`gateway ${path}`] = `${response.status} ${response.body?.code ?? response.headers.get('x-cache')}`;
  }
  for (const [worker, path] of [
    ['client', LIST],
    ['auth', '/api/v1/auth/me'],
    ['user', '/api/v1/users/me'],
  ] as const) {
    const response = await target.apps[worker].inject({ method: 'GET', url: path, headers });
    answers[`${worker} ${path}`] = `${response.statusCode} ${response.json().code ?? 'ok'}`;
  }
  return answers;
}

const REVOKED = '401 AUTH_SESSION_REVOKED';
const allRevoked = (answers: Record<string, string>) =>
  Object.fromEntries(Object.keys(answers).map((k) => [k, REVOKED]));

describe('with Redis (the shared cache)', () => {
  test('logout: the same access token is refused at the next request, everywhere; another session continues', async () => {
    const user = await registerUser(system.gatewayUrl, 'revokelogout');
    const otherDevice = await login(system, user);
    await call(system.gatewayUrl, 'POST', LIST, { token: user.accessToken, body: { name: 'Kept Co' } });
    await warmEdge(system, user.accessToken);
    await warmEdge(system, otherDevice.accessToken);

    const out = await call(system.gatewayUrl, 'POST', '/api/v1/auth/logout', { token: user.accessToken });
    expect(out.status).toBe(204);
    const answers = await everywhere(system, user.accessToken);
    expect(answers).toEqual(allRevoked(answers));

    // The other session still reads the page at the edge, and refilling the cache for it does not
    // bring the logged-out token back.
    await warmEdge(system, otherDevice.accessToken);
    const again = await call(system.gatewayUrl, 'GET', LIST, { token: user.accessToken });
    expect(`${again.status} ${again.body.code}`).toBe(REVOKED);
    // Logout stays idempotent: a repeat (its first answer lost) is 204 again, and changes nothing.
    const twice = await call(system.gatewayUrl, 'POST', '/api/v1/auth/logout', { token: user.accessToken });
    expect(twice.status).toBe(204);
    expect((await call(system.gatewayUrl, 'GET', LIST, { token: otherDevice.accessToken })).status).toBe(200);
  });

  test('an admin disables the account: every session’s token is refused at the next request', async () => {
    const user = await registerUser(system.gatewayUrl, 'revokedisable');
    const otherDevice = await login(system, user);
    await warmEdge(system, user.accessToken);
    const disabled = await call(system.gatewayUrl, 'PATCH', `/api/v1/users/${user.id}`, {
      token: admin.accessToken,
      body: { status: 'DISABLED' },
    });
    expect(disabled.status).toBe(200);
    for (const token of [user.accessToken, otherDevice.accessToken]) {
      const answers = await everywhere(system, token);
      expect(answers).toEqual(allRevoked(answers));
    }
  });

  test('a password change: the other sessions’ tokens are refused; the session that changed it continues', async () => {
    const user = await registerUser(system.gatewayUrl, 'revokepassword');
    const attacker = await login(system, user);
    await warmEdge(system, attacker.accessToken);
    const changed = await call(system.gatewayUrl, 'PATCH', '/api/v1/users/me', {
      token: user.accessToken,
      body: { password: 'a brand new password', currentPassword: user.password },
    });
    expect(changed.status).toBe(200);
    const answers = await everywhere(system, attacker.accessToken);
    expect(answers).toEqual(allRevoked(answers));
    const own = await everywhere(system, user.accessToken);
    expect(Object.values(own).every((answer) => answer.startsWith('200'))).toBe(true);
  });

  test('a refresh-token reuse ends the family: its access tokens are refused too', async () => {
    const user = await registerUser(system.gatewayUrl, 'revokereuse');
    const rotated = await call(system.gatewayUrl, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: user.refreshToken },
    });
    await warmEdge(system, rotated.body.accessToken);
    const replay = await call(system.gatewayUrl, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: user.refreshToken },
    });
    expect(replay.body.code).toBe('AUTH_REFRESH_REUSED');
    for (const token of [user.accessToken, rotated.body.accessToken]) {
      const answers = await everywhere(system, token);
      expect(answers).toEqual(allRevoked(answers));
    }
  });

  test('a token without a session id (not one the auth worker issues) is refused', async () => {
    const { signTestToken } = await import('../../tools/testing/helpers.ts');
    const user = await registerUser(system.gatewayUrl, 'nosid');
    const withoutSid = signTestToken({ sub: user.id, sid: null });
    const response = await call(system.gatewayUrl, 'GET', LIST, { token: withoutSid });
    expect(`${response.status} ${response.body.code}`).toBe('401 AUTH_TOKEN_INVALID');
  });
});

describe('without Redis', () => {
  test('in-process cache: logout reaches the other workers at the next request (sessions are not cached there)', async () => {
    const local = await startSystem({ REDIS_URL: undefined });
    try {
      expect(local.apps.client.cache.kind).toBe('memory');
      const user = await registerUser(local.gatewayUrl, 'revokememory');
      for (let i = 0; i < 3; i++) await call(local.gatewayUrl, 'GET', LIST, { token: user.accessToken });
      await call(local.gatewayUrl, 'POST', '/api/v1/auth/logout', { token: user.accessToken });
      const answers = await everywhere(local, user.accessToken);
      expect(answers).toEqual(allRevoked(answers));
    } finally {
      await local.close();
    }
  });

  test('Redis stopped: every session check reads PostgreSQL, so logout still reaches the next request', async () => {
    let redis: RunningRedis | undefined = await startRedis();
    const outage = await startSystem({ REDIS_URL: redis.url });
    try {
      const user = await registerUser(outage.gatewayUrl, 'revokeoutage');
      await warmEdge(outage, user.accessToken);
      await redis.stop();
      redis = undefined;
      const out = await call(outage.gatewayUrl, 'POST', '/api/v1/auth/logout', { token: user.accessToken });
      expect(out.status).toBe(204);
      const answers = await everywhere(outage, user.accessToken);
      expect(answers).toEqual(allRevoked(answers));
    } finally {
      await outage.close();
      await redis?.stop();
    }
  });
});
