// The read cache on the real stack (PostgreSQL behind PgBouncer, a real redis-server): what is cached,
// that every write invalidates before it answers, and that Redis stopping, stalling or coming back
// never fails a request or holds a database connection.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { SECURITY_HEADERS } from '../../gateway/pipeline/security-headers.ts';
import { type RunningRedis, startRedis } from '../../tools/stack/redis.ts';
import { sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let redis: RunningRedis;
let system: RunningSystem;
beforeAll(async () => {
  redis = await startRedis();
  system = await startSystem({ REDIS_URL: redis.url, CACHE_TIMEOUT_MS: '100', DB_POOL_SIZE: '1' });
});
afterAll(async () => {
  await system?.close();
  await redis?.stop();
});
const api = (method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>) =>
  call(system.gatewayUrl, method, path, { token, body, headers });
const cacheOf = (response: { headers: Headers }) => response.headers.get('x-cache');

async function warm(path: string, token: string) {
  for (let i = 0; i < 20; i++) {
    if (cacheOf(await api('GET', path, token)) === 'hit') return;
    await Bun.sleep(20);
  }
  throw new Error(`${path} never became a cache hit`);
}

describe('what is cached, and invalidation on every write', () => {
  test('client list: miss, then hit; create, update and delete each invalidate before answering', async () => {
    const user = await registerUser(system.gatewayUrl, 'cachelist');
    const first = await api('GET', '/api/v1/clients', user.accessToken);
    expect(cacheOf(first)).toBe('miss');
    await warm('/api/v1/clients', user.accessToken);

    const created = await api('POST', '/api/v1/clients', user.accessToken, { name: 'Fresh Co' });
    const afterCreate = await api('GET', '/api/v1/clients', user.accessToken);
    expect(cacheOf(afterCreate)).toBe('miss');
    expect(afterCreate.body.data.map((client: { name: string }) => client.name)).toEqual(['Fresh Co']);

    await warm('/api/v1/clients', user.accessToken);
    await warm(`/api/v1/clients/${created.body.id}`, user.accessToken);
    await api('PATCH', `/api/v1/clients/${created.body.id}`, user.accessToken, { name: 'Renamed Co' });
    expect((await api('GET', '/api/v1/clients', user.accessToken)).body.data[0].name).toBe('Renamed Co');
    expect((await api('GET', `/api/v1/clients/${created.body.id}`, user.accessToken)).body.name).toBe('Renamed Co');

    await warm('/api/v1/clients', user.accessToken);
    const deleted = await api('DELETE', `/api/v1/clients/${created.body.id}`, user.accessToken);
    expect(deleted.status).toBe(204);
    const afterDelete = await api('GET', '/api/v1/clients', user.accessToken);
    expect(afterDelete.body.meta.total).toBe(0);
    expect((await api('GET', `/api/v1/clients/${created.body.id}`, user.accessToken)).status).toBe(404);
  });

  test('a cached client is still checked for ownership', async () => {
    const owner = await registerUser(system.gatewayUrl, 'cacheowner');
    const other = await registerUser(system.gatewayUrl, 'cacheother');
    const created = await api('POST', '/api/v1/clients', owner.accessToken, { name: 'Mine' });
    await warm(`/api/v1/clients/${created.body.id}`, owner.accessToken);
    expect((await api('GET', `/api/v1/clients/${created.body.id}`, other.accessToken)).status).toBe(404);
  });

  test('profiles: own change and an admin’s status change both invalidate', async () => {
    const user = await registerUser(system.gatewayUrl, 'cacheprofile');
    await warm('/api/v1/users/me', user.accessToken);
    await api('PATCH', '/api/v1/users/me', user.accessToken, { name: 'New Name' });
    const me = await api('GET', '/api/v1/users/me', user.accessToken);
    expect(me.body.name).toBe('New Name');
    expect(cacheOf(me)).toBe('miss');

    const admin = await registerUser(system.gatewayUrl, 'cacheadmin');
    await sqlOnTestDatabase("UPDATE users SET role = 'ADMIN' WHERE id = $1", [admin.id]);
    const adminLogin = await call(system.gatewayUrl, 'POST', '/api/v1/auth/login', {
      body: { email: admin.email, password: admin.password },
    });
    const adminToken = adminLogin.body.accessToken as string;
    await warm(`/api/v1/users/${user.id}`, adminToken);
    await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { status: 'DISABLED' });
    expect((await api('GET', `/api/v1/users/${user.id}`, adminToken)).body.status).toBe('DISABLED');
  });

  test('Cache-Control: no-cache bypasses the cache', async () => {
    const user = await registerUser(system.gatewayUrl, 'cachebypass');
    await warm('/api/v1/clients', user.accessToken);
    const fresh = await api('GET', '/api/v1/clients', user.accessToken, undefined, { 'cache-control': 'no-cache' });
    expect(cacheOf(fresh)).toBe('bypass');
  });
});

describe('Redis off the database path', () => {
  test('Redis stalled (paused): requests stay within cache timeout + database time, and none waits a cache timeout for a connection', async () => {
    const user = await registerUser(system.gatewayUrl, 'stall');
    await warm('/api/v1/clients', user.accessToken);
    const pool = system.apps.client.db.pool;
    // The longest stretch in which a query waited for the pool's one connection. The gateway's
    // readiness probe (a SELECT 1 every second) can take it for a moment; a connection held across a
    // stalled Redis call would keep a query waiting a whole cache timeout (100 ms) or more.
    let longestWaitMs = 0;
    let waitingSince: number | undefined;
    const sampler = setInterval(() => {
      const now = performance.now();
      if (pool.waitingCount === 0) {
        waitingSince = undefined;
        return;
      }
      waitingSince ??= now;
      longestWaitMs = Math.max(longestWaitMs, now - waitingSince);
    }, 1);
    redis.pause();
    try {
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const response = await api('GET', `/api/v1/clients?page=${i + 1}`, user.accessToken);
        const elapsed = performance.now() - started;
        expect(response.status).toBe(200);
        expect(cacheOf(response)).toBe('miss');
        // One cache timeout per cache call on the way (the gateway's edge read, the worker's session
        // check, the worker's list read) + a generous database allowance.
        expect(elapsed).toBeLessThan(3 * 100 + 400);
      }
    } finally {
      redis.resume();
      clearInterval(sampler);
    }
    expect(longestWaitMs).toBeLessThan(50);
  });

  test('with the pool at size 1 and Redis blackholed, 100 concurrent list requests all succeed', async () => {
    const user = await registerUser(system.gatewayUrl, 'blackhole');
    await api('POST', '/api/v1/clients', user.accessToken, { name: 'One' });
    expect(system.apps.client.db.config.pool.max).toBe(1);
    redis.pause();
    try {
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) => api('GET', `/api/v1/clients?limit=${(i % 50) + 1}`, user.accessToken)),
      );
      const refused = responses.filter((response) => response.status !== 200);
      expect(refused.map((response) => `${response.status} ${response.body?.code}`)).toEqual([]);
      expect(responses.every((response) => response.body.meta.total === 1)).toBe(true);
    } finally {
      redis.resume();
    }
  });

  test('Redis stopped mid-run: every request answers correctly from PostgreSQL; back again, hits resume without a restart', async () => {
    const user = await registerUser(system.gatewayUrl, 'outage');
    await api('POST', '/api/v1/clients', user.accessToken, { name: 'Survivor' });
    await warm('/api/v1/clients', user.accessToken);
    const port = redis.port;
    await redis.stop();
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const response = await api('GET', '/api/v1/clients', user.accessToken);
      expect(response.status).toBe(200);
      expect(response.body.data[0].name).toBe('Survivor');
      expect(performance.now() - started).toBeLessThan(500);
    }
    // A write during the outage still answers. (Its owner's lists are then read from PostgreSQL
    // until the TTL has passed, since the entry it could not drop may come back with Redis.)
    const writer = await registerUser(system.gatewayUrl, 'outagewriter');
    const created = await api('POST', '/api/v1/clients', writer.accessToken, { name: 'During outage' });
    expect(created.status).toBe(201);
    expect(cacheOf(await api('GET', '/api/v1/clients', writer.accessToken))).toBe('bypass');

    redis = await startRedis(port);
    let resumed = false;
    for (let i = 0; i < 100 && !resumed; i++) {
      await Bun.sleep(50);
      const response = await api('GET', '/api/v1/clients', user.accessToken, undefined);
      expect(response.body.meta.total).toBe(1);
      resumed = cacheOf(response) === 'hit';
    }
    expect(resumed).toBe(true);
  }, 30_000);
});

describe('cache hits answered at the gateway', () => {
  test('a cached page is served by the gateway itself, scoped to the caller, and dropped by writes', async () => {
    const edge = await startSystem({ REDIS_URL: redis.url });
    try {
      const owner = await registerUser(edge.gatewayUrl, 'edgeowner');
      const stranger = await registerUser(edge.gatewayUrl, 'edgestranger');
      await call(edge.gatewayUrl, 'POST', '/api/v1/clients', { token: owner.accessToken, body: { name: 'Edge Co' } });
      const list = (token: string, query = '') => call(edge.gatewayUrl, 'GET', `/api/v1/clients${query}`, { token });
      const warm = async () => {
        for (let i = 0; i < 20 && (await list(owner.accessToken)).headers.get('x-cache') !== 'hit'; i++)
          await Bun.sleep(20);
      };
      await warm();
      // A write drops the page before it answers: the next read is fresh, not the gateway's old hit.
      await call(edge.gatewayUrl, 'POST', '/api/v1/clients', { token: owner.accessToken, body: { name: 'Edge Two' } });
      const fresh = await list(owner.accessToken);
      expect(fresh.headers.get('x-cache')).toBe('miss');
      expect(fresh.body.meta.total).toBe(2);
      await warm();
      // A page for the search "\uFFFD%A", which is what the gateway's URL parser makes of the malformed
      // escape %E0%A4%A (the worker's parser reads it another way).
      const decodedAlike = `?search=${encodeURIComponent('\uFFFD%A')}`;
      for (let i = 0; i < 20 && (await list(owner.accessToken, decodedAlike)).headers.get('x-cache') !== 'hit'; i++)
        await Bun.sleep(20);

      // The client worker goes away: cached pages are still answered, by the gateway alone.
      await edge.apps.client.close();
      const hit = await list(owner.accessToken);
      expect(hit.status).toBe(200);
      expect(hit.headers.get('x-cache')).toBe('hit');
      // Built at the edge, it carries what every answer carries, as the forwarded page did.
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(hit.headers.get(name)).toBe(value);
      expect(hit.headers.get('vary')).toBe('Origin');
      expect(hit.headers.get('content-type')).toBe(fresh.headers.get('content-type'));
      expect(hit.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(hit.body.data.map((client: { name: string }) => client.name)).toEqual(['Edge Two', 'Edge Co']);
      expect(hit.body.meta).toEqual({ page: 1, limit: 20, total: 2, totalPages: 1 });
      // Not cached for someone else, nor for another query: those need the worker.
      expect((await list(stranger.accessToken)).status).toBe(503);
      expect((await list(owner.accessToken, '?limit=5')).status).toBe(503);
      expect((await list(owner.accessToken, `?ownerId=${owner.id}`)).status).toBe(503);
      // The malformed escape is never read at the edge (it would get the other query's page): forwarded.
      expect((await list(owner.accessToken, decodedAlike)).headers.get('x-cache')).toBe('hit');
      expect((await list(owner.accessToken, '?search=%E0%A4%A')).status).toBe(503);
    } finally {
      await edge.close().catch(() => {});
    }
  });
});
