// Redis strictly as a cache. Every read it serves can be answered by PostgreSQL; every failure or
// timeout is a miss that is counted and logged (at most every few seconds), never an error for the
// request. Services use this module, never ioredis directly.
//
// Why no database connection is ever held while waiting on Redis: readThrough() asks the store
// first and only then calls `load`, a repository call that takes a pooled connection and gives it
// back before its promise resolves; the fill happens after that, without awaiting. Nothing here
// runs inside a Prisma transaction, so the cache is never on the path that acquires a connection.
//
// Why invalidation is seen by every process: each group has a version in the store (see
// cache-stores.ts). A read gets the version and the entry together; its fill presents the version it
// read and is refused if a write changed it meanwhile, in any process. A store that cannot be read
// is a miss, never a hit, and an invalidation that could not reach the store is re-sent until it does.
import { type CacheStore, createMemoryStore, createRedisStore } from './cache-stores.ts';
import { withTimeout } from './with-timeout.ts';

export type CacheStatus = 'hit' | 'miss' | 'bypass';

/** Bump when the shape or layout of cached values changes: a deploy then never reads old entries. */
export const CACHE_SCHEMA_VERSION = 3; // 3: client-list pages carry next and totalIsLowerBound
const KEY_PREFIX = `poolwise:v${CACHE_SCHEMA_VERSION}:`;
const ERROR_LOG_INTERVAL_MS = 10_000;
/** A value larger than this is served but not cached (a 100-row page of long notes is ~600 KB). */
const DEFAULT_MAX_ENTRY_BYTES = 256 * 1024;
/** Failed invalidations are re-sent this often until the store takes them. */
const INVALIDATION_RETRY_MS = 250;
/** Groups whose invalidation is still owed: beyond this many, the oldest past one TTL are forgotten. */
const MAX_OWED_INVALIDATIONS = 10_000;

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
  /** Values whose JSON is larger (in UTF-8 bytes) are not cached. */
  maxEntryBytes?: number;
  /** Bounds of the in-process store (entries, bytes). */
  memory?: { maxEntries?: number; maxBytes?: number };
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
  /** Drops groups before a write answers, for every process using the same store. Never throws. */
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
  /** Whether each of a user's sessions (field: the session id) may still use its access tokens. */
  sessionStanding: (userId: string) => `sessions:user:${userId}`,
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

  const ttlMs = options.ttlSeconds * 1000;
  const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const store: CacheStore = options.redisUrl
    ? createRedisStore({
        url: options.redisUrl,
        keyPrefix: KEY_PREFIX,
        ttlMs,
        commandTimeoutMs: options.timeoutMs,
        connectTimeoutMs: Math.max(options.timeoutMs * 5, 500),
        onConnectionError: (error) => noteError(error, 'connect'),
        onReady: () => void resendOwedInvalidations(),
      })
    : createMemoryStore(options.memory);
  const bounded = <T>(operation: Promise<T>) => withTimeout(operation, options.timeoutMs, 'the cache');

  // Loads under way, by entry and by the version they were read under: a reader that sees a newer
  // version (another process wrote) never joins a load that began before that write.
  const inFlight = new Map<string, { promise: Promise<unknown>; stale: boolean }>();
  // Groups whose invalidation has not reached the store yet, with when it was first owed. This
  // process reads them from the database meanwhile; other processes rely on the re-send below
  // (and, while the store is unreachable, cannot read it either).
  const owed = new Map<string, number>();
  let resending: Promise<void> | undefined;
  const resendOwedInvalidations = () => {
    if (owed.size === 0 || resending) return resending;
    const groups = [...owed.keys()];
    resending = bounded(store.invalidate(groups))
      .then(() => {
        for (const group of groups) owed.delete(group);
      })
      .catch(() => {})
      .finally(() => {
        resending = undefined;
      });
    return resending;
  };
  const retryTimer = setInterval(() => void resendOwedInvalidations(), INVALIDATION_RETRY_MS);
  retryTimer.unref?.();

  // One read, bounded by the cache timeout. `undefined` = the store did not answer (a miss that must
  // not be filled, since its version is unknown). Wrapped, because `null` (e.g. "no such client") is
  // a value that can be cached too.
  const readStored = async <T>(group: string, field: string) => {
    try {
      const { version, value } = await bounded(store.read(group, field));
      if (value === undefined) return { version };
      stats.hits++;
      return { version, hit: { value: JSON.parse(value) as T } };
    } catch (error) {
      noteError(error, 'read');
      return undefined;
    }
  };

  const fill = async (group: string, version: string, field: string, value: unknown) => {
    const serialized = JSON.stringify(value);
    // Buffer.byteLength is exact; length*3 is its upper bound, so most values skip the count.
    if (serialized.length * 3 > maxEntryBytes && Buffer.byteLength(serialized) > maxEntryBytes) return;
    await store.write(group, version, field, serialized, ttlMs);
  };

  return {
    kind: store.kind,
    stats,

    async readThrough<T>(group: string, field: string, load: () => Promise<T>, bypass = false) {
      if (bypass || owed.has(group)) {
        stats.bypasses++;
        return { value: await load(), status: 'bypass' as const };
      }
      const stored = await readStored<T>(group, field);
      if (stored?.hit) return { value: stored.hit.value, status: 'hit' as const };
      stats.misses++;
      if (!stored) return { value: await load(), status: 'miss' as const };
      const { version } = stored;
      // Concurrent misses for one entry under one version share one database query (no stampede).
      const flightKey = `${group}\u0000${version}\u0000${field}`;
      let flight = inFlight.get(flightKey);
      if (!flight) {
        const started = { promise: load(), stale: false };
        inFlight.set(flightKey, started);
        started.promise
          .then(
            (value) => (started.stale ? undefined : fill(group, version, field, value)),
            () => {},
          )
          .catch((error) => noteError(error, 'write'))
          .finally(() => {
            if (inFlight.get(flightKey) === started) inFlight.delete(flightKey);
          });
        flight = started;
      }
      return { value: (await flight.promise) as T, status: 'miss' as const };
    },

    async peek<T>(group: string, field: string) {
      if (owed.has(group)) return undefined;
      return (await readStored<T>(group, field))?.hit?.value;
    },

    async invalidate(...groups: string[]) {
      for (const [flightKey, flight] of inFlight) {
        if (!groups.some((group) => flightKey.startsWith(`${group}\u0000`))) continue;
        // Its result predates this write: later readers here do not join it. (Its fill would be
        // refused by the store anyway; this saves the round trip.)
        flight.stale = true;
        inFlight.delete(flightKey);
      }
      try {
        await bounded(store.invalidate(groups));
      } catch (error) {
        noteError(error, 'invalidate');
        const now = Date.now();
        if (owed.size >= MAX_OWED_INVALIDATIONS) {
          for (const [group, since] of owed) if (now - since > ttlMs) owed.delete(group);
        }
        for (const group of groups) if (!owed.has(group)) owed.set(group, now);
      }
    },

    async check() {
      try {
        await bounded(store.ping());
        return 'ok' as const;
      } catch {
        return 'degraded' as const;
      }
    },

    async close() {
      clearInterval(retryTimer);
      await store.close();
    },
  };
}
