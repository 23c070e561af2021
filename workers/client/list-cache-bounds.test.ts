// The reproduction on the real stack (client and auth workers on PostgreSQL behind PgBouncer,
// a private redis-server): one owner with 30 clients requests 400 list variants, then one new variant
// every 200 ms. Redis grows while the variants are fresh and gives the memory back one TTL later,
// although the owner's lists never stop being read. Case variants of a search share one entry, in
// the worker and at the gateway's edge; and a client deleted while Redis refuses writes is never
// answered from the edge.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { type Cache, cacheGroups, createCache } from '../../shared/cache.ts';
import { clientListCacheField, parseCanonicalClientListQuery } from '../../shared/client-list-query.ts';
import { type RunningRedis, startRedis } from '../../tools/stack/redis.ts';
import { testConfig, testKeys, uniqueEmail } from '../../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';
import { buildApp as buildAuth } from '../auth/app.ts';
import { buildApp as buildClient } from './app.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const TTL_SECONDS = 2;
let redis: RunningRedis;
let probe: Redis;
let auth: FastifyInstance;
let client: FastifyInstance;
let edge: Cache;
beforeAll(async () => {
  redis = await startRedis();
  probe = new Redis(redis.url);
  const overrides = {
    REDIS_URL: redis.url,
    CACHE_TTL: String(TTL_SECONDS),
    AUTH_RATE_LIMIT_MAX: '10000',
    RATE_LIMIT_MAX: '100000',
  };
  auth = await buildAuth({ config: testConfig('auth', overrides), keys: testKeys });
  client = await buildClient({ config: testConfig('client', overrides), keys: { publicKey: testKeys.publicKey } });
  edge = createCache({
    redisUrl: redis.url,
    enabled: true,
    ttlSeconds: TTL_SECONDS,
    timeoutMs: 100,
    logger: { warn() {} },
  });
});
afterAll(async () => {
  await edge?.close();
  await Promise.all([auth?.close(), client?.close()]);
  probe?.disconnect();
  await redis?.stop();
});

async function registerOwner() {
  const response = await auth.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email: uniqueEmail('bounds'), password: 'a long enough password', name: 'Bounds' },
  });
  expect(response.statusCode).toBe(201);
  const body = response.json();
  return { id: body.user.id as string, token: body.accessToken as string };
}
const request = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: object) =>
  client.inject({ method, url, payload, headers: { authorization: `Bearer ${token}` } });
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await probe.info('memory'))?.[1]);
const MB = 1024 * 1024;
type Page = { rows: { name: string }[]; total: number };
/** What the gateway's edge cache does with a list query (gateway/…/edge-cache.ts): parse, then peek. */
const edgeList = (ownerId: string, query: string) => {
  const params = parseCanonicalClientListQuery(new URLSearchParams(query));
  if (!params) throw new Error(`not a canonical query: ${query}`);
  return edge.peek<Page>(cacheGroups.clientLists(ownerId), clientListCacheField(params));
};

describe('list variants', () => {
  test('400 variants then one new variant every 200 ms: Redis gives the memory back one TTL later', async () => {
    const owner = await registerOwner();
    for (let i = 0; i < 30; i++) {
      await request('POST', '/api/v1/clients', owner.token, { name: `Client ${i}`, notes: 'n'.repeat(400) });
    }
    const baseline = await usedMemory();
    const sorts = ['createdAt', '-createdAt', 'name', '-name'];
    for (let limit = 1; limit <= 100; limit++) {
      await Promise.all(
        sorts.map((sort) => request('GET', `/api/v1/clients?limit=${limit}&sort=${sort}`, owner.token)),
      );
    }
    await Bun.sleep(100);
    const filled = (await usedMemory()) - baseline;
    const keysFilled = await probe.dbsize();
    const started = Date.now();
    for (let i = 0; Date.now() - started < 2.5 * TTL_SECONDS * 1000; i++) {
      const response = await request('GET', `/api/v1/clients?search=client%20${i}`, owner.token);
      expect(response.statusCode).toBe(200);
      await Bun.sleep(200);
    }
    const after = (await usedMemory()) - baseline;
    const keysAfter = await probe.dbsize();
    console.log(
      `400 list variants of 30 clients: +${(filled / MB).toFixed(2)} MB (${keysFilled} keys); ` +
        `${2.5 * TTL_SECONDS} s of one new variant every 200 ms later: +${(after / MB).toFixed(2)} MB (${keysAfter} keys)`,
    );
    expect(filled).toBeGreaterThan(2 * MB);
    expect(after).toBeLessThan(0.5 * MB);
    expect(keysAfter).toBeLessThan(40);
  }, 60_000);

  test('case variants of a search are one entry, in the worker and at the edge', async () => {
    const owner = await registerOwner();
    await request('POST', '/api/v1/clients', owner.token, { name: 'Acme Corp' });
    await request('POST', '/api/v1/clients', owner.token, { name: 'Other' });
    const first = await request('GET', '/api/v1/clients?search=Acme', owner.token);
    expect(first.headers['x-cache']).toBe('miss');
    await Bun.sleep(50);
    const upper = await request('GET', '/api/v1/clients?search=ACME', owner.token);
    expect(upper.headers['x-cache']).toBe('hit');
    expect(upper.json().data.map((row: { name: string }) => row.name)).toEqual(['Acme Corp']);
    const atEdge = await edgeList(owner.id, 'search=aCmE');
    expect(atEdge?.rows.map((row) => row.name)).toEqual(['Acme Corp']);
  });
});

describe('invalidation seen at the edge', () => {
  test('a client deleted while Redis refuses writes is not answered from the edge, during or after', async () => {
    const owner = await registerOwner();
    const created = (await request('POST', '/api/v1/clients', owner.token, { name: 'Doomed' })).json();
    for (let i = 0; i < 20 && !(await edgeList(owner.id, '')); i++) {
      await request('GET', '/api/v1/clients', owner.token);
      await Bun.sleep(20);
    }
    expect(await edgeList(owner.id, '')).toBeDefined();
    await probe.client('PAUSE', '600', 'WRITE');
    try {
      expect((await request('DELETE', `/api/v1/clients/${created.id}`, owner.token)).statusCode).toBe(204);
      expect(await edgeList(owner.id, '')).toBeUndefined();
      const fromWorker = await request('GET', '/api/v1/clients', owner.token);
      expect(fromWorker.json().meta.total).toBe(0);
      await Bun.sleep(700);
      for (let i = 0; i < 10; i++) {
        const page = await edgeList(owner.id, '');
        if (page) expect(page.total).toBe(0);
        await request('GET', '/api/v1/clients', owner.token);
        await Bun.sleep(20);
      }
    } finally {
      await probe.client('UNPAUSE');
    }
  });
});
