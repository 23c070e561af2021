// Invalidation seen by every process. Two caches on one real redis-server stand for two processes
// (a worker that writes, and another worker or the gateway that reads): a slow read in one never puts
// old data back after the other's write, a reader never joins a load that predates a write it could
// see, and a write whose invalidation could not reach Redis is still never served stale elsewhere.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { Redis } from 'ioredis';
import { type RunningRedis, startRedis } from '../tools/stack/redis.ts';
import { startTcpProxy } from '../tools/testing/tcp-proxy.ts';
import { type Cache, createCache } from './cache.ts';

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
  await probe.client('UNPAUSE');
});

function cacheAt(url: string, overrides: Partial<Parameters<typeof createCache>[0]> = {}): Cache {
  const cache = createCache({
    redisUrl: url,
    enabled: true,
    ttlSeconds: 30,
    timeoutMs: 100,
    logger: quiet,
    ...overrides,
  });
  caches.push(cache);
  return cache;
}
const group = () => `versions:${Math.random().toString(36).slice(2)}`;
async function untilConnected(cache: Cache) {
  const g = group();
  for (let i = 0; i < 100; i++) {
    if ((await cache.readThrough(g, 'probe', async () => 1)).status === 'hit') return;
    await Bun.sleep(20);
  }
  throw new Error('redis never connected');
}
async function warmed(cache: Cache, g: string, field: string, value: unknown) {
  for (let i = 0; i < 50; i++) {
    if ((await cache.readThrough(g, field, async () => value)).status === 'hit') return;
    await Bun.sleep(10);
  }
  throw new Error('never became a hit');
}

describe('late fills across processes', () => {
  test('a read in flight in one process never fills old data after a write in another (raced 300 times)', async () => {
    const reader = cacheAt(redis.url);
    const writer = cacheAt(redis.url);
    const edge = cacheAt(redis.url);
    await Promise.all([untilConnected(reader), untilConnected(writer), untilConnected(edge)]);
    let staleServed = 0;
    let oldLoads = 0;
    for (let i = 0; i < 300; i++) {
      const g = group();
      let database = 'old';
      const slowRead = reader.readThrough(g, 'row', async () => {
        const seen = database; // the row as the read's query saw it
        if (seen === 'old') oldLoads++;
        await Bun.sleep(Math.random() * 6);
        return seen;
      });
      await Bun.sleep(Math.random() * 4);
      database = 'new'; // the write commits...
      await writer.invalidate(g); // ...and invalidates before it answers
      await slowRead;
      await Bun.sleep(5); // the reader's fill is not awaited by its request
      const atEdge = await edge.peek<string>(g, 'row');
      const next = await writer.readThrough(g, 'row', async () => database);
      if (atEdge === 'old' || next.value === 'old') staleServed++;
    }
    console.log(`late-fill race: ${oldLoads}/300 reads saw the old row; stale answers after the write: ${staleServed}`);
    expect(oldLoads).toBeGreaterThan(30); // the race was really run
    expect(staleServed).toBe(0);
  }, 60_000);

  test('a reader that starts after another process’s write does not join a load that began before it', async () => {
    const reader = cacheAt(redis.url);
    const writer = cacheAt(redis.url);
    await Promise.all([untilConnected(reader), untilConnected(writer)]);
    const g = group();
    let database = 'old';
    let release: () => void = () => {};
    let started: () => void = () => {};
    const loadStarted = new Promise<void>((resolve) => (started = resolve));
    const first = reader.readThrough(g, 'row', () => {
      const seen = database;
      started();
      return new Promise<string>((resolve) => (release = () => resolve(seen)));
    });
    await loadStarted;
    database = 'new';
    await writer.invalidate(g); // the write has answered: everyone must now read 'new'
    const second = reader.readThrough(g, 'row', async () => database);
    release();
    expect((await first).value).toBe('old'); // began before the write: may answer old
    expect((await second).value).toBe('new');
  });
});

describe('an invalidation that could not reach Redis', () => {
  test('Redis refusing writes (CLIENT PAUSE WRITE): no process serves the old entry, during or after', async () => {
    const writer = cacheAt(redis.url);
    const edge = cacheAt(redis.url);
    await Promise.all([untilConnected(writer), untilConnected(edge)]);
    const g = group();
    await warmed(writer, g, 'row', 'old');
    expect(await edge.peek(g, 'row')).toBe('old');
    await probe.client('PAUSE', '800', 'WRITE');
    await writer.invalidate(g); // times out: the write answers anyway
    expect(writer.stats.errors).toBeGreaterThan(0);
    expect(await edge.peek(g, 'row')).toBeUndefined();
    expect((await writer.readThrough(g, 'row', async () => 'new')).value).toBe('new');
    await Bun.sleep(900);
    for (let i = 0; i < 10; i++) {
      expect(await edge.peek(g, 'row')).not.toBe('old');
      expect((await writer.readThrough(g, 'row', async () => 'new')).value).toBe('new');
      await Bun.sleep(20);
    }
  });

  test('the writer cut off from Redis (connection dropped): once it is back, no process serves the old entry', async () => {
    const proxy = await startTcpProxy(redis.port);
    try {
      const writer = cacheAt(proxy.url);
      const edge = cacheAt(redis.url);
      await Promise.all([untilConnected(writer), untilConnected(edge)]);
      const g = group();
      await warmed(writer, g, 'row', 'old');
      await proxy.cut();
      await writer.invalidate(g); // fails at once: the writer has no connection
      expect((await writer.readThrough(g, 'row', async () => 'new')).status).toBe('bypass');
      await proxy.heal();
      // The writer reconnects by itself (within ioredis's 2 s backoff) and re-sends the invalidation.
      let cleared = false;
      for (let i = 0; i < 80 && !cleared; i++) {
        await Bun.sleep(50);
        cleared = (await edge.peek(g, 'row')) === undefined;
      }
      expect(cleared).toBe(true);
      expect((await edge.readThrough(g, 'row', async () => 'new')).value).toBe('new');
    } finally {
      await proxy.stop();
    }
  }, 15_000);
});
