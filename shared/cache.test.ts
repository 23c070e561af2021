// The cache module against a real redis-server: hits, misses, TTL, coalescing, and what happens when
// Redis stops, stalls or comes back. No database here: loaders are counted functions.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { type RunningRedis, startRedis } from '../tools/stack/redis.ts';
import { type Cache, createCache } from './cache.ts';

const quiet = { warn() {} };
let redis: RunningRedis;
const caches: Cache[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
  redis.resume();
});

function redisCache(overrides: Partial<Parameters<typeof createCache>[0]> = {}): Cache {
  const cache = createCache({
    redisUrl: redis.url,
    enabled: true,
    ttlSeconds: 30,
    timeoutMs: 100,
    logger: quiet,
    ...overrides,
  });
  caches.push(cache);
  return cache;
}
const group = () => `test:${Math.random().toString(36).slice(2)}`;
async function untilConnected(cache: Cache, g: string) {
  // ioredis connects in the background; a first read may miss on "not connected yet".
  for (let i = 0; i < 50; i++) {
    const { status } = await cache.readThrough(g, 'probe', async () => 1);
    if (status === 'hit') return;
    await Bun.sleep(20);
  }
  throw new Error('redis never connected');
}

describe('read-through', () => {
  test('miss, then hit with the same value; the loader runs once', async () => {
    const cache = redisCache();
    const g = group();
    await untilConnected(cache, g);
    let loads = 0;
    const load = async () => ({ n: ++loads, at: '2026-01-01T00:00:00.000Z' });
    const first = await cache.readThrough(g, 'a', load);
    await Bun.sleep(20); // the fill is not awaited by the request
    const second = await cache.readThrough(g, 'a', load);
    expect(first).toEqual({ value: { n: 1, at: '2026-01-01T00:00:00.000Z' }, status: 'miss' });
    expect(second).toEqual({ value: { n: 1, at: '2026-01-01T00:00:00.000Z' }, status: 'hit' });
    expect(loads).toBe(1);
  });

  test('invalidation drops every entry of the group', async () => {
    const cache = redisCache();
    const g = group();
    await untilConnected(cache, g);
    await cache.readThrough(g, 'a', async () => 'old-a');
    await cache.readThrough(g, 'b', async () => 'old-b');
    await Bun.sleep(20);
    await cache.invalidate(g);
    expect(await cache.readThrough(g, 'a', async () => 'new-a')).toEqual({ value: 'new-a', status: 'miss' });
    expect(await cache.readThrough(g, 'b', async () => 'new-b')).toEqual({ value: 'new-b', status: 'miss' });
  });

  test('entries expire after the TTL', async () => {
    const cache = redisCache({ ttlSeconds: 1 });
    const g = group();
    await untilConnected(cache, g);
    await cache.readThrough(g, 'a', async () => 'first');
    await Bun.sleep(20);
    expect((await cache.readThrough(g, 'a', async () => 'second')).status).toBe('hit');
    await Bun.sleep(1_100);
    expect(await cache.readThrough(g, 'a', async () => 'third')).toEqual({ value: 'third', status: 'miss' });
  });

  test('N concurrent misses for one entry make one load (no stampede)', async () => {
    const cache = redisCache();
    const g = group();
    await untilConnected(cache, g);
    let loads = 0;
    const slowLoad = async () => {
      loads++;
      await Bun.sleep(50);
      return 'value';
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.readThrough(g, 'hot', slowLoad)));
    expect(loads).toBe(1);
    expect(results.every((result) => result.value === 'value')).toBe(true);
  });

  test('a load that began before a write does not put its old result back', async () => {
    const cache = redisCache();
    const g = group();
    await untilConnected(cache, g);
    let release: () => void = () => {};
    let loadStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => (loadStarted = resolve));
    const slowOld = cache.readThrough(g, 'a', () => {
      loadStarted();
      return new Promise<string>((resolve) => (release = () => resolve('old')));
    });
    await started; // the old read is in the database...
    await cache.invalidate(g); // ...when a write commits and invalidates
    release();
    expect((await slowOld).value).toBe('old');
    await Bun.sleep(30);
    expect(await cache.readThrough(g, 'a', async () => 'new')).toEqual({ value: 'new', status: 'miss' });
  });

  test('bypass reads from the loader and says so', async () => {
    const cache = redisCache();
    expect(await cache.readThrough(group(), 'a', async () => 1, true)).toEqual({ value: 1, status: 'bypass' });
    const off = createCache({ enabled: false, ttlSeconds: 30, timeoutMs: 100, logger: quiet });
    expect(off.kind).toBe('off');
    expect((await off.readThrough('g', 'a', async () => 2)).status).toBe('bypass');
  });

  test('keys are namespaced and versioned', async () => {
    const cache = redisCache();
    const g = group();
    await untilConnected(cache, g);
    const { Redis } = await import('ioredis');
    const probe = new Redis(redis.url);
    try {
      // One key per entry and one version key per group (shared/cache-stores.ts).
      expect(await probe.exists(`poolwise:v3:version:${g}`, `poolwise:v3:entry:${g}:probe`)).toBe(2);
    } finally {
      probe.disconnect();
    }
  });
});

describe('when Redis misbehaves, the cache misses instead of failing', () => {
  test('a stalled Redis (paused process): reads answer from the loader within the cache timeout', async () => {
    const cache = redisCache({ timeoutMs: 100 });
    const g = group();
    await untilConnected(cache, g);
    redis.pause();
    const started = performance.now();
    const result = await cache.readThrough(g, 'probe', async () => 'from-db');
    const elapsed = performance.now() - started;
    expect(result).toEqual({ value: 'from-db', status: 'miss' });
    expect(elapsed).toBeLessThan(400);
    expect(cache.stats.errors).toBeGreaterThan(0);
    await cache.invalidate(g); // must not throw either
    redis.resume();
  });

  test('an invalidation that failed keeps that group off the cache here until it has reached Redis', async () => {
    const cache = redisCache({ timeoutMs: 50, ttlSeconds: 30 });
    const g = group();
    await untilConnected(cache, g);
    redis.pause();
    await cache.invalidate(g);
    // The old "probe" entry may still be in Redis: it must not be served.
    expect((await cache.readThrough(g, 'probe', async () => 2)).status).toBe('bypass');
    redis.resume();
    // The invalidation is re-sent until Redis takes it; then the group is cached again (long before the TTL).
    let status = 'bypass';
    for (let i = 0; i < 40 && status === 'bypass'; i++) {
      await Bun.sleep(50);
      status = (await cache.readThrough(g, 'probe', async () => 3)).status;
    }
    expect(status).toBe('miss');
    expect((await cache.readThrough(g, 'probe', async () => 4)).value).toBe(3);
  });
});
