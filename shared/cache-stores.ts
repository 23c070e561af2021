// The two places cached entries can live, behind one small interface. Entries are grouped (e.g. one
// owner's client lists), and every group has a version: a random token that changes when the group is
// invalidated. Every entry is stamped with the version it was filled under and served only while that
// is still the group's version, so an invalidation is one small write, seen by every process reading
// the same store, and a fill whose read began under an older version is refused.
//
// Tokens are never reused, so losing one (expired, evicted under maxmemory, Redis restarted) is safe:
// the next read makes a new one, and everything stamped with the old one is a miss.
//
// Both stores may throw or time out; shared/cache.ts turns every failure into a miss.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

export interface StoredRead {
  /** The group's version now; a fill of this read must present it. */
  version: string;
  /** The entry, if one was stored under that version. */
  value?: string;
}

export interface CacheStore {
  readonly kind: 'redis' | 'memory';
  /** The group's version and its entry, in one step (one round trip for Redis). */
  read(group: string, field: string): Promise<StoredRead>;
  /** Stores the entry, for `ttlMs`, only if the group's version is still `version`. */
  write(group: string, version: string, field: string, value: string, ttlMs: number): Promise<boolean>;
  /** New versions for these groups: every entry stored before is a miss from now on, everywhere. */
  invalidate(groups: string[]): Promise<void>;
  /** Throws if the store does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const newVersion = () => randomBytes(9).toString('base64url');
/** A version outlives the entries stamped with it; a fill extends it. */
const versionTtlMs = (entryTtlMs: number) => entryTtlMs * 2;

// KEYS: version, entry. ARGV: a new version (used if the group has none), its TTL in ms.
// An entry is "<version>|<value>"; the stamp is compared here, so a stale entry never leaves Redis.
const READ_SCRIPT = `
local version = redis.call('GET', KEYS[1])
if not version then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {ARGV[1]}
end
local entry = redis.call('GET', KEYS[2])
local stamp = version .. '|'
if entry and string.sub(entry, 1, #stamp) == stamp then
  return {version, string.sub(entry, #stamp + 1)}
end
return {version}
`;
// KEYS: version, entry. ARGV: the version the read saw, the value, entry TTL ms, version TTL ms.
const WRITE_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
`;

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key (namespace and schema version). */
  keyPrefix: string;
  /** Every command fails after this long instead of waiting (a stalled Redis). */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** Entries' TTL: a group's version is kept at least twice as long. */
  ttlMs: number;
  onConnectionError?: (error: Error) => void;
  /** Called each time the connection is (re)established. */
  onReady?: () => void;
}

type ScriptedRedis = Redis & {
  cacheRead(versionKey: string, entryKey: string, candidate: string, ttlMs: number): Promise<[string, string?]>;
  cacheWrite(
    versionKey: string,
    entryKey: string,
    version: string,
    value: string,
    ttlMs: number,
    versionTtlMs: number,
  ): Promise<number>;
};

/**
 * One Redis key per entry (`SET … PX`), so every entry expires on its own and Redis frees it, plus one
 * small version key per group. Memory is bounded by TTL and by Redis's maxmemory with allkeys-lru
 * (compose.yaml, tools/stack/redis.ts): eviction of either kind of key only causes misses.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore & { client: Redis } {
  const client = new Redis(options.url, {
    // A cache must miss, not wait: no queueing while disconnected, no retries per command,
    // short timeouts. Reconnection goes on in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
  }) as ScriptedRedis;
  client.defineCommand('cacheRead', { numberOfKeys: 2, lua: READ_SCRIPT });
  client.defineCommand('cacheWrite', { numberOfKeys: 2, lua: WRITE_SCRIPT });
  client.on('error', (error) => options.onConnectionError?.(error));
  client.on('ready', () => options.onReady?.());
  const versionKey = (group: string) => `${options.keyPrefix}version:${group}`;
  const entryKey = (group: string, field: string) => `${options.keyPrefix}entry:${group}:${field}`;
  return {
    kind: 'redis',
    client,
    async read(group, field) {
      const [version, value] = await client.cacheRead(
        versionKey(group),
        entryKey(group, field),
        newVersion(),
        versionTtlMs(options.ttlMs),
      );
      return { version, value: value ?? undefined };
    },
    async write(group, version, field, value, ttlMs) {
      const stored = await client.cacheWrite(
        versionKey(group),
        entryKey(group, field),
        version,
        value,
        ttlMs,
        versionTtlMs(ttlMs),
      );
      return stored === 1;
    },
    async invalidate(groups) {
      // Deleting the version is enough: the next read makes a new one. The old entries are left to
      // expire (or to be overwritten by the next fill of the same field).
      if (groups.length > 0) await client.unlink(...groups.map(versionKey));
    },
    async ping() {
      await client.ping();
    },
    async close() {
      client.disconnect();
    },
  };
}

export interface MemoryStoreOptions {
  maxEntries?: number;
  /** Bound on the entries' size (keys and values, counted as UTF-16: 2 bytes a character). */
  maxBytes?: number;
}

/**
 * In-process LRU, the development default, bounded by entries and by bytes; each entry has its own
 * TTL. Versions are bounded too (an evicted version only orphans its entries). Per process: another
 * process never sees its invalidations, so shared/cache.ts's callers cache here only what their own
 * process writes.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}) {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new LRUCache<string, { version: string; value: string }>({
    max: maxEntries,
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (entry, key) => 2 * (key.length + entry.version.length + entry.value.length) + 64,
  });
  const versions = new LRUCache<string, string>({ max: maxEntries });
  let sequence = 0;
  const entryKey = (group: string, field: string) => `${group}\u0000${field}`;
  const store = {
    kind: 'memory' as const,
    async read(group: string, field: string): Promise<StoredRead> {
      let version = versions.get(group);
      if (version === undefined) {
        version = String(++sequence);
        versions.set(group, version);
      }
      const entry = entries.get(entryKey(group, field));
      return { version, value: entry?.version === version ? entry.value : undefined };
    },
    async write(group: string, version: string, field: string, value: string, ttlMs: number) {
      if (versions.get(group) !== version) return false;
      entries.set(entryKey(group, field), { version, value }, { ttl: ttlMs });
      return entries.has(entryKey(group, field)); // false when over the size bound by itself
    },
    async invalidate(groups: string[]) {
      for (const group of groups) versions.delete(group);
    },
    async ping() {},
    async close() {
      entries.clear();
      versions.clear();
    },
    /** What the store holds now: for tests and diagnostics. */
    usage() {
      return { entries: entries.size, bytes: entries.calculatedSize, versions: versions.size };
    },
  };
  return store satisfies CacheStore;
}
