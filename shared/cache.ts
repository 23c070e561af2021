// Redis strictly as a cache. Every read it serves can be answered by PostgreSQL; every failure or
// timeout is a miss that is counted and logged (at most every few seconds), never an error for the
// request. Services use this module, never ioredis directly.
//
// Why no database connection is ever held while waiting on Redis: readThrough() asks the store
// first and only then calls `load`, a repository call that takes a pooled connection and gives it
// back before its promise resolves; the fill happens after that, without awaiting. Nothing here
// runs inside a Prisma transaction, so the cache is never on the path that acquires a connection.
import { type CacheStore, createMemoryStore, createRedisStore } from './cache-stores.ts';
import { withTimeout } from './with-timeout.ts';

export type CacheStatus = 'hit' | 'miss' | 'bypass';

/** Bump when the shape of a cached value changes: a deploy then never reads the old entries. */
export const CACHE_SCHEMA_VERSION = 1;
const KEY_PREFIX = `poolwise:v${CACHE_SCHEMA_VERSION}:`;
const ERROR_LOG_INTERVAL_MS = 10_000;

export interface CacheStats {
  hits: number;
  misses: number;
  bypasses: number;
  errors: number;
}

export interface CacheOptions {
  /** Redis when set; otherwise the in-process LRU. */
  redisUrl?: string;
  enabled: boolean;
  ttlSeconds: number;
  /** Bound on what a slow or dead Redis can add to a request. */
  timeoutMs: number;
  logger: { warn(details: object, message: string): void };
}

export interface Cache {
  readonly kind: 'redis' | 'memory' | 'off';
  readonly stats: CacheStats;
  readThrough<T>(
    group: string,
    field: string,
    load: () => Promise<T>,
    bypass?: boolean,
  ): Promise<{ value: T; status: CacheStatus }>;
  /** The cached value if there is one, without loading anything on a miss. Never throws. */
  peek<T>(group: string, field: string): Promise<T | undefined>;
  /** Drops groups before a write answers. Never throws. */
  invalidate(...groups: string[]): Promise<void>;
  /** For readiness: `degraded` when the store does not answer (requests still work, from PostgreSQL). */
  check(): Promise<'ok' | 'degraded' | 'off'>;
  close(): Promise<void>;
}

/** Cache groups: one place that knows how entries are grouped and named. */
export const cacheGroups = {
  clientLists: (ownerId: string) => `clients:owner:${ownerId}`,
  client: (clientId: string) => `client:${clientId}`,
  user: (userId: string) => `user:${userId}`,
};

export function createCache(options: CacheOptions): Cache {
  const stats: CacheStats = { hits: 0, misses: 0, bypasses: 0, errors: 0 };
  let lastErrorLog = 0;
  let unloggedErrors = 0;
  const noteError = (error: unknown, operation: string) => {
    stats.errors++;
    unloggedErrors++;
    const now = Date.now();
    if (now - lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    options.logger.warn(
      { err: error, operation, errorsSinceLastLog: unloggedErrors },
      'cache unavailable; serving from the database',
    );
    lastErrorLog = now;
    unloggedErrors = 0;
  };

  if (!options.enabled) {
    return {
      kind: 'off',
      stats,
      async readThrough(_group, _field, load) {
        stats.bypasses++;
        return { value: await load(), status: 'bypass' };
      },
      peek: async () => undefined,
      async invalidate() {},
      check: async () => 'off' as const,
      async close() {},
    };
  }

  const store: CacheStore = options.redisUrl
    ? createRedisStore({
        url: options.redisUrl,
        commandTimeoutMs: options.timeoutMs,
        connectTimeoutMs: Math.max(options.timeoutMs * 5, 500),
        onConnectionError: (error) => noteError(error, 'connect'),
      })
    : createMemoryStore();
  // Loads under way, by entry. A write's invalidation marks the ones of its group stale: their
  // (older) result must not be put back into the cache after the write.
  const inFlight = new Map<string, { promise: Promise<unknown>; stale: boolean }>();
  // Groups whose invalidation failed: read from the database until the TTL has passed, since an
  // entry we could not drop may still be in the store when it comes back.
  const suspectUntil = new Map<string, number>();
  const isSuspect = (group: string) => (suspectUntil.get(group) ?? 0) > Date.now();
  // One read, bounded by the cache timeout; a hit is counted, a failure is a miss. Wrapped, because
  // `null` (e.g. "no such client") is a value that can be cached too.
  const readStored = async <T>(key: string, field: string): Promise<{ value: T } | undefined> => {
    try {
      const cached = await withTimeout(store.read(key, field), options.timeoutMs, 'the cache');
      if (cached === undefined) return undefined;
      stats.hits++;
      return { value: JSON.parse(cached) as T };
    } catch (error) {
      noteError(error, 'read');
      return undefined;
    }
  };

  return {
    kind: store.kind,
    stats,

    async readThrough<T>(group: string, field: string, load: () => Promise<T>, bypass = false) {
      const key = KEY_PREFIX + group;
      if (bypass || isSuspect(group)) {
        stats.bypasses++;
        return { value: await load(), status: 'bypass' as const };
      }
      const cached = await readStored<T>(key, field);
      if (cached) return { value: cached.value, status: 'hit' as const };
      stats.misses++;
      // Concurrent misses for one entry share one database query (no stampede).
      const flightKey = `${key}\u0000${field}`;
      let flight = inFlight.get(flightKey);
      if (!flight) {
        const started = { promise: load(), stale: false };
        inFlight.set(flightKey, started);
        // The entry stays "in flight" until its fill is stored, so a write landing in between is
        // seen: the fill is skipped, or undone if it was already sent.
        const fill = async (value: unknown) => {
          if (!started.stale) {
            await store.write(key, field, JSON.stringify(value), options.ttlSeconds);
            if (started.stale) await store.dropGroups([key]);
          }
        };
        started.promise
          .then(fill, () => {})
          .catch((error) => noteError(error, 'write'))
          .finally(() => {
            if (inFlight.get(flightKey) === started) inFlight.delete(flightKey);
          });
        flight = started;
      }
      return { value: (await flight.promise) as T, status: 'miss' as const };
    },

    async peek<T>(group: string, field: string) {
      if (isSuspect(group)) return undefined;
      return (await readStored<T>(KEY_PREFIX + group, field))?.value;
    },

    async invalidate(...groups: string[]) {
      const keys = groups.map((group) => KEY_PREFIX + group);
      for (const [flightKey, flight] of inFlight) {
        if (!keys.some((key) => flightKey.startsWith(`${key}\u0000`))) continue;
        // Its result predates this write: not cached, and later readers do not join it.
        flight.stale = true;
        inFlight.delete(flightKey);
      }
      try {
        await withTimeout(store.dropGroups(keys), options.timeoutMs, 'the cache');
      } catch (error) {
        noteError(error, 'invalidate');
        const now = Date.now();
        for (const [group, until] of suspectUntil) if (until <= now) suspectUntil.delete(group);
        for (const group of groups) suspectUntil.set(group, now + options.ttlSeconds * 1000);
      }
    },

    async check() {
      try {
        await withTimeout(store.read(`${KEY_PREFIX}health`, 'probe'), options.timeoutMs, 'the cache');
        return 'ok' as const;
      } catch {
        return 'degraded' as const;
      }
    },

    close: () => store.close(),
  };
}
