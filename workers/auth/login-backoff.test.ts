// Failed logins are limited per (account, client address) with a growing delay, through the gateway
// on the real stack: someone guessing from one address cannot lock the owner (the admin included)
// out from another. The gateway trusts one proxy here, so X-Forwarded-For names the client address.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const ADDRESS_A = '198.51.100.10';
const ADDRESS_B = '203.0.113.20';
const FREE_FAILURES = 2;

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({
    TRUST_PROXY_HOPS: '1',
    AUTH_LOGIN_FAILURES_BEFORE_DELAY: String(FREE_FAILURES),
    // The per-account limit that used to count every attempt from any address, set low: login no longer uses it.
    AUTH_ACCOUNT_RATE_LIMIT_MAX: '3',
  });
});
afterAll(async () => {
  await system?.close();
});

const login = (from: string, email: string, password: string) =>
  call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
    body: { email, password },
    headers: { 'x-forwarded-for': from },
  });

let admin: Awaited<ReturnType<typeof registerUser>>;
beforeEach(async () => {
  admin = await registerUser(system.gatewayUrl, 'admin-backoff');
  await sqlOnTestDatabase("UPDATE users SET role = 'ADMIN' WHERE id = $1", [admin.id]);
});

describe('failed logins per account and address', () => {
  test('bad logins from address A for the admin do not stop the admin logging in from address B', async () => {
    const fromA: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++)
      fromA.push((await login(ADDRESS_A, admin.email, 'wrong guess')).status);
    expect(fromA.slice(0, FREE_FAILURES)).toEqual([401, 401]);
    expect(fromA.slice(FREE_FAILURES)).toContain(429);

    const fromB = await login(ADDRESS_B, admin.email, admin.password);
    expect(fromB.status).toBe(200);
    expect(fromB.body.user.role).toBe('ADMIN');
    // B's own typo costs B nothing of A's back-off either.
    expect((await login(ADDRESS_B, admin.email, 'typo')).status).toBe(401);
  });

  test('repeated failures from one address wait a growing delay: 429 RATE_LIMITED with Retry-After 1, 2, 4', async () => {
    const waits: number[] = [];
    for (let round = 0; round < 3; round++) {
      // Free failures in the first round; afterwards, one evaluated failure per wait.
      const evaluated = round === 0 ? FREE_FAILURES : 1;
      for (let attempt = 0; attempt < evaluated; attempt++) {
        expect((await login(ADDRESS_A, admin.email, 'wrong guess')).status).toBe(401);
      }
      const refused = await login(ADDRESS_A, admin.email, 'wrong guess');
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
      const retryAfter = Number(refused.headers.get('retry-after'));
      waits.push(retryAfter);
      await Bun.sleep(retryAfter * 1000 + 100);
    }
    expect(waits).toEqual([1, 2, 4]);
  }, 20_000);

  test('while the pair waits even the right password is refused; after the wait, a success resets the count', async () => {
    for (let attempt = 0; attempt < FREE_FAILURES; attempt++) await login(ADDRESS_A, admin.email, 'wrong guess');
    const waiting = await login(ADDRESS_A, admin.email, admin.password);
    expect(waiting.status).toBe(429);
    await Bun.sleep(Number(waiting.headers.get('retry-after')) * 1000 + 100);

    expect((await login(ADDRESS_A, admin.email, admin.password)).status).toBe(200);
    // Counting starts again from zero: the free failures are free again.
    for (let attempt = 0; attempt < FREE_FAILURES; attempt++) {
      expect((await login(ADDRESS_A, admin.email, 'wrong guess')).status).toBe(401);
    }
  });

  test('a burst of concurrent guesses gets only the free failures evaluated', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 10 }, async () => (await login(ADDRESS_A, admin.email, 'wrong guess')).status),
    );
    expect(statuses.filter((status) => status === 401)).toHaveLength(FREE_FAILURES);
    expect(statuses.filter((status) => status === 429)).toHaveLength(10 - FREE_FAILURES);
  });

  test('an unknown email backs off the same way (no hint which accounts exist)', async () => {
    const email = `nobody-${Date.now()}@example.test`;
    const statuses: number[] = [];
    for (let attempt = 0; attempt <= FREE_FAILURES; attempt++)
      statuses.push((await login(ADDRESS_A, email, 'x')).status);
    expect(statuses).toEqual([401, 401, 429]);
  });
});
