// The cache's memory is bounded: every entry expires on its own (a group read all the time does not
// keep its old variants), values over the per-entry cap are not stored, the in-process store is
// bounded by bytes and entries, and Redis itself runs with maxmemory + allkeys-lru. Measured on a
// real redis-server (INFO memory, DBSIZE), not assumed.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { type RunningRedis, startRedis } from '../tools/stack/redis.ts';
import { type Cache, createCache } from './cache.ts';
import { createMemoryStore } from './cache-stores.ts';

const quiet = { warn() {} };
let redis: RunningRedis;
let probe: Redis;
const caches: Cache[] = [];
beforeAll(async () => {
  redis = await startRedis();
  probe = new Redis(redis.url);
});
afterAll(async () => {
  probe?.disconnect();
  await redis?.stop();
});
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
  await probe.flushall();
});

function redisCache(overrides: Partial<Parameters<typeof createCache>[0]> = {}): Cache {
  const cache = createCache({
    redisUrl: redis.url,
    enabled: true,
    ttlSeconds: 30,
    timeoutMs: 200,
    logger: quiet,
    ...overrides,
  });
  caches.push(cache);
  return cache;
}
const group = () => `bounds:${Math.random().toString(36).slice(2)}`;
async function untilConnected(cache: Cache, g: string) {
  for (let i = 0; i < 50; i++) {
    if ((await cache.readThrough(g, 'probe', async () => 1)).status === 'hit') return;
    await Bun.sleep(20);
  }
  throw new Error('redis never connected');
}
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await probe.info('memory'))?.[1]);
/** Fills are not awaited by readers: wait until the store stops growing. */
async function settled() {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const size = await probe.dbsize();
    if (size === last) return size;
    last = size;
    await Bun.sleep(50);
  }
  return last;
}
const MB = 1024 * 1024;

describe('Redis', () => {
  test('thousands of variants of one hot group are freed one TTL after their fill, while the group is still read', async () => {
    const cache = redisCache({ ttlSeconds: 1 });
    const g = group();
    await untilConnected(cache, g);
    const baseline = await usedMemory();
    const row = 'n'.repeat(2_000);
    for (let batch = 0; batch < 30; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          cache.readThrough(g, `variant-${batch * 100 + i}`, async () => ({ row })),
        ),
      );
    }
    const keysWhenFilled = await settled();
    const filled = (await usedMemory()) - baseline;
    // Keep the group hot: one new variant every 100 ms for 2.5 TTLs (the "one every 2 s").
    for (let i = 0; i < 25; i++) {
      await cache.readThrough(g, `late-${i}`, async () => ({ row }));
      await Bun.sleep(100);
    }
    const keysAfter = await probe.dbsize();
    const after = (await usedMemory()) - baseline;
    console.log(
      `redis, 3,000 variants x 2 KB, TTL 1 s: filled +${(filled / MB).toFixed(1)} MB (${keysWhenFilled} keys); ` +
        `2.5 s later with the group still read: +${(after / MB).toFixed(2)} MB (${keysAfter} keys)`,
    );
    expect(filled).toBeGreaterThan(5 * MB); // the variants really were stored...
    expect(after).toBeLessThan(0.5 * MB); // ...and are gone, although the group never went quiet
    expect(keysAfter).toBeLessThan(50);
  }, 30_000);

  test('a value over the per-entry cap is served but not stored', async () => {
    const cache = redisCache({ maxEntryBytes: 64 * 1024 });
    const g = group();
    await untilConnected(cache, g);
    const before = await usedMemory();
    const page = { rows: Array.from({ length: 100 }, () => ({ notes: 'x'.repeat(5_000) })) }; // ~500 KB
    expect((await cache.readThrough(g, 'big', async () => page)).status).toBe('miss');
    await Bun.sleep(50);
    expect((await cache.readThrough(g, 'big', async () => page)).status).toBe('miss');
    expect((await usedMemory()) - before).toBeLessThan(100 * 1024);
  });

  test('the test redis-server runs with maxmemory and allkeys-lru, and stays under it when overfilled', async () => {
    expect(await probe.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    const maxmemory = Number((await probe.config('GET', 'maxmemory'))[1]);
    expect(maxmemory).toBeGreaterThan(0);
    expect(maxmemory).toBeLessThanOrEqual(128 * MB);
    const cache = redisCache();
    const g = group();
    await untilConnected(cache, g);
    // 1.5 x maxmemory of 60 KB entries: Redis evicts instead of failing or growing.
    const count = Math.ceil((1.5 * maxmemory) / (60 * 1024));
    const value = 'v'.repeat(60 * 1024);
    for (let batch = 0; batch < count; batch += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => cache.readThrough(`${g}:${batch + i}`, 'f', async () => value)),
      );
    }
    await settled();
    const used = await usedMemory();
    console.log(
      `redis overfilled with ${count} x 60 KB: used_memory ${(used / MB).toFixed(1)} MB of ${maxmemory / MB} MB`,
    );
    expect(used).toBeLessThanOrEqual(maxmemory * 1.05);
    // Full, Redis evicts rather than refusing: a new entry is still stored and served.
    await untilConnected(cache, group());
  }, 60_000);

  test('compose runs Redis with maxmemory and allkeys-lru', () => {
    const compose = parse(readFileSync(new URL('../compose.yaml', import.meta.url), 'utf8'));
    const command: string[] = compose.services.redis.command;
    expect(command).toContain('--maxmemory');
    expect(command[command.indexOf('--maxmemory-policy') + 1]).toBe('allkeys-lru');
  });
});

describe('in-process store', () => {
  test('bounded by bytes and by entries, whatever is written; each entry expires on its own', async () => {
    const store = createMemoryStore({ maxEntries: 1_000, maxBytes: 4 * MB });
    const row = 'n'.repeat(2_000);
    for (let i = 0; i < 5_000; i++) {
      const g = `owner:${i % 7}`;
      const { version } = await store.read(g, `variant-${i}`);
      await store.write(g, version, `variant-${i}`, row, 60_000);
    }
    const usage = store.usage();
    console.log(
      `memory store after 5,000 x 4 KB writes: ${usage.entries} entries, ${(usage.bytes / MB).toFixed(2)} MB`,
    );
    expect(usage.bytes).toBeLessThanOrEqual(4 * MB);
    expect(usage.entries).toBeLessThanOrEqual(1_000);

    // 5,000 groups invalidated: their versions are bounded too.
    for (let i = 0; i < 5_000; i++) await store.invalidate([`gone:${i}`]);
    expect(store.usage().versions).toBeLessThanOrEqual(1_000);

    const { version } = await store.read('short', 'f');
    await store.write('short', version, 'f', 'value', 50);
    expect((await store.read('short', 'f')).value).toBe('value');
    await Bun.sleep(80);
    expect((await store.read('short', 'f')).value).toBeUndefined();
    await store.close();
  });
});
