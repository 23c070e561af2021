// A profile is cached by two services: the auth worker (/auth/me) reads it, the user worker reads and
// changes it. On the real stack (PostgreSQL behind PgBouncer, a private redis-server): an /auth/me read
// in flight while the user worker applies PATCH /users/me never writes the old profile back (raced
// many times); and with the in-process cache, which one service cannot invalidate for another, the
// auth worker does not cache profiles at all.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { FastifyInstance } from 'fastify';
import { type RunningRedis, startRedis } from '../../tools/stack/redis.ts';
import { testConfig, testKeys, uniqueEmail } from '../../tools/testing/helpers.ts';
import { startTcpProxy } from '../../tools/testing/tcp-proxy.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';
import { buildApp as buildAuth } from '../auth/app.ts';
import { buildApp as buildUser } from './app.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let redis: RunningRedis;
const apps: FastifyInstance[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await redis?.stop();
});

/** The two workers; the auth worker may reach Redis another way (through a slower link). */
async function workers(redisUrl: string | undefined, authRedisUrl = redisUrl) {
  const overrides = { REDIS_URL: redisUrl, AUTH_RATE_LIMIT_MAX: '10000', RATE_LIMIT_MAX: '100000' };
  const auth = await buildAuth({
    config: testConfig('auth', { ...overrides, REDIS_URL: authRedisUrl }),
    keys: testKeys,
  });
  const user = await buildUser({ config: testConfig('user', overrides), keys: { publicKey: testKeys.publicKey } });
  apps.push(auth, user);
  const register = await auth.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email: uniqueEmail('profile'), password: 'a long enough password', name: 'start' },
  });
  const headers = { authorization: `Bearer ${register.json().accessToken}` };
  return {
    me: () => auth.inject({ method: 'GET', url: '/api/v1/auth/me', headers }),
    rename: (name: string) => user.inject({ method: 'PATCH', url: '/api/v1/users/me', headers, payload: { name } }),
  };
}

describe('profiles across the auth and user workers', () => {
  test('Redis: an /auth/me read in flight during PATCH /users/me never puts the old name back (raced 150 times)', async () => {
    // The auth worker is a few ms further from Redis than the user worker (another zone, a busy
    // host): its fill can land after the user worker's invalidation, as in production.
    const farther = await startTcpProxy(redis.port);
    farther.setLatency(8);
    const { me, rename } = await workers(redis.url, farther.url);
    let stale = 0;
    for (let i = 0; i < 150; i++) {
      const reads = Array.from({ length: 3 }, async (_, k) => {
        await Bun.sleep(k);
        return me();
      });
      await Bun.sleep(Math.random() * 30);
      expect((await rename(`name-${i}`)).statusCode).toBe(200);
      await Promise.all(reads);
      await Bun.sleep(30); // fills are not awaited by the request (and cross the slower link)
      if ((await me()).json().name !== `name-${i}`) stale++;
    }
    await farther.stop();
    console.log(`profile race: ${stale}/150 reads after the rename answered an old name`);
    expect(stale).toBe(0);
  }, 60_000);

  test('in-process cache: the auth worker never answers an old profile after the user worker changed it', async () => {
    const { me, rename } = await workers(undefined);
    await me();
    await me();
    expect((await rename('renamed')).statusCode).toBe(200);
    const after = await me();
    expect(after.json().name).toBe('renamed');
    expect(after.headers['x-cache']).toBe('bypass');
  });
});
