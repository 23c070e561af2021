// The auth worker through the gateway, on the real stack: rotation, reuse detection, logout, disabled users.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { sqlOnTestDatabase, uniqueEmail } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.close();
});
const post = (path: string, body?: unknown, token?: string) => call(system.gatewayUrl, 'POST', path, { body, token });

describe('refresh tokens', () => {
  test('rotation: a new pair, and the old refresh token stops working', async () => {
    const user = await registerUser(system.gatewayUrl, 'rotate');
    const rotated = await post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(user.refreshToken);
    expect(rotated.body.expiresIn).toBe(900);
    const me = await call(system.gatewayUrl, 'GET', '/api/v1/auth/me', { token: rotated.body.accessToken });
    expect(me.body.id).toBe(user.id);
    const next = await post('/api/v1/auth/refresh', { refreshToken: rotated.body.refreshToken });
    expect(next.status).toBe(200);
  });

  test('reuse of a rotated token revokes the whole family', async () => {
    const user = await registerUser(system.gatewayUrl, 'reuse');
    const rotated = await post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    const replay = await post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('AUTH_REFRESH_REUSED');
    // The thief's replay ended the legitimate holder's session too: the newest token is dead.
    const afterReuse = await post('/api/v1/auth/refresh', { refreshToken: rotated.body.refreshToken });
    expect(afterReuse.status).toBe(401);
    expect(afterReuse.body.code).toBe('AUTH_REFRESH_INVALID');
  });

  test('concurrent rotations of one token: exactly one wins', async () => {
    const user = await registerUser(system.gatewayUrl, 'race');
    const results = await Promise.all(
      Array.from({ length: 5 }, () => post('/api/v1/auth/refresh', { refreshToken: user.refreshToken })),
    );
    expect(results.filter((result) => result.status === 200)).toHaveLength(1);
  });

  test('tokens are stored hashed, never in the clear', async () => {
    const user = await registerUser(system.gatewayUrl, 'hashed');
    const rows = await sqlOnTestDatabase('SELECT token_hash FROM refresh_sessions WHERE user_id = $1', [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toBe(user.refreshToken);
    expect(rows[0].token_hash).toHaveLength(43); // base64url SHA-256
  });

  test('expired and made-up tokens are refused with a code', async () => {
    const user = await registerUser(system.gatewayUrl, 'expired');
    await sqlOnTestDatabase("UPDATE refresh_sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1", [
      user.id,
    ]);
    const expired = await post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('AUTH_REFRESH_INVALID');
    const madeUp = await post('/api/v1/auth/refresh', { refreshToken: 'not-a-token' });
    expect(madeUp.body.code).toBe('AUTH_REFRESH_INVALID');
  });

  test('rotation keeps the family’s absolute expiry', async () => {
    const user = await registerUser(system.gatewayUrl, 'absolute');
    const [before] = await sqlOnTestDatabase('SELECT expires_at FROM refresh_sessions WHERE user_id = $1', [user.id]);
    await post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    const rows = await sqlOnTestDatabase('SELECT expires_at FROM refresh_sessions WHERE user_id = $1', [user.id]);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.expires_at.getTime()).toBe(before.expires_at.getTime());
  });
});

describe('logout', () => {
  test('ends the session: 204, and its refresh token stops working; other logins continue', async () => {
    const user = await registerUser(system.gatewayUrl, 'logout');
    const otherLogin = await post('/api/v1/auth/login', { email: user.email, password: user.password });
    const out = await post('/api/v1/auth/logout', undefined, user.accessToken);
    expect(out.status).toBe(204);
    const refresh = await post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(refresh.status).toBe(401);
    const other = await post('/api/v1/auth/refresh', { refreshToken: otherLogin.body.refreshToken });
    expect(other.status).toBe(200);
  });

  test('needs an access token', async () => {
    const out = await post('/api/v1/auth/logout');
    expect(out.status).toBe(401);
    expect(out.body.code).toBe('AUTH_REQUIRED');
  });
});

describe('access tokens', () => {
  test('are EdDSA JWTs living at most 15 minutes, with issuer and audience', async () => {
    const user = await registerUser(system.gatewayUrl, 'claims');
    const [header, payload] = user.accessToken
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header.alg).toBe('EdDSA');
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(900);
    expect(payload).toMatchObject({ sub: user.id, iss: 'poolwise-auth', aud: 'poolwise-api', role: 'USER' });
  });

  test('alg:none and HMAC-signed tokens are rejected', async () => {
    const user = await registerUser(system.gatewayUrl, 'algnone');
    const [, payload] = user.accessToken.split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    const hmacHeader = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
    const { createHmac } = await import('node:crypto');
    const hmacSignature = createHmac('sha256', 'guess').update(`${hmacHeader}.${payload}`).digest('base64url');
    for (const forged of [none, `${hmacHeader}.${payload}.${hmacSignature}`]) {
      const response = await call(system.gatewayUrl, 'GET', '/api/v1/auth/me', { token: forged });
      expect(response.status).toBe(401);
      // Workers check again: going around the gateway does not help.
      const direct = await system.apps.auth.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: `Bearer ${forged}` },
      });
      expect(direct.statusCode).toBe(401);
    }
  });
});

describe('disabled users', () => {
  test('cannot log in or refresh', async () => {
    const user = await registerUser(system.gatewayUrl, 'disabled');
    await sqlOnTestDatabase("UPDATE users SET status = 'DISABLED' WHERE id = $1", [user.id]);
    const login = await post('/api/v1/auth/login', { email: user.email, password: user.password });
    expect(login.status).toBe(403);
    expect(login.body.code).toBe('AUTH_ACCOUNT_DISABLED');
    const refresh = await post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(refresh.status).toBe(403);
  });
});

describe('passwords', () => {
  test('are stored as argon2id at OWASP’s minimum or above', async () => {
    const user = await registerUser(system.gatewayUrl, 'argon');
    const [row] = await sqlOnTestDatabase('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$/);
    const [, memory, time] = /m=(\d+),t=(\d+)/.exec(row.password_hash) ?? [];
    expect(Number(memory)).toBeGreaterThanOrEqual(19_456);
    expect(Number(time)).toBeGreaterThanOrEqual(2);
  });

  test('at most 128 characters', async () => {
    const response = await post('/api/v1/auth/register', {
      email: 'long@example.test',
      password: 'x'.repeat(129),
      name: 'L',
    });
    expect(response.status).toBe(400);
  });
});

describe('rate limits', () => {
  // A fresh system per test: counters start at zero.
  let limited: RunningSystem;
  beforeEach(async () => {
    limited = await startSystem({ AUTH_ACCOUNT_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_MAX: '6' });
  });
  afterEach(async () => {
    await limited?.close();
  });

  // Login is limited by failures per account and address instead (login-backoff.test.ts).
  test('register stays limited per account (the email), from any address: 429 RATE_LIMITED with Retry-After', async () => {
    const body = { email: uniqueEmail('taken'), password: 'a long enough password', name: 'Taken' };
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await call(limited.gatewayUrl, 'POST', '/api/v1/auth/register', {
        body,
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
      });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([201, 409, 409, 429]);
    expect(last?.body.code).toBe('RATE_LIMITED');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('without a token, the gateway limits every other route per address too', async () => {
    const general = await startSystem({ RATE_LIMIT_MAX: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(general.gatewayUrl, 'GET', '/api/v1/clients')).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await general.close();
    }
  });

  test('login is limited per address across accounts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await call(limited.gatewayUrl, 'POST', '/api/v1/auth/login', {
        body: { email: `spray${i}@example.test`, password: 'guess guess' },
      });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 6).every((status) => status === 401)).toBe(true);
    expect(statuses[6]).toBe(429);
  });
});
