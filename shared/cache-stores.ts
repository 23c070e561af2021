// The two places cached entries can live, behind one small interface. Entries are grouped: a group
// (e.g. one owner's client lists) is dropped as a whole when something in it changes.
//
// Both stores may throw or time out; shared/cache.ts turns every failure into a miss.
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

export interface CacheStore {
  readonly kind: 'redis' | 'memory';
  read(group: string, field: string): Promise<string | undefined>;
  write(group: string, field: string, value: string, ttlSeconds: number): Promise<void>;
  dropGroups(groups: string[]): Promise<void>;
  close(): Promise<void>;
}

/** A stored value carries its own expiry, so every field expires on time even inside a shared group. */
interface Stored {
  value: string;
  expiresAt: number;
}

function unwrap(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  const stored = JSON.parse(raw) as Stored;
  return stored.expiresAt > Date.now() ? stored.value : undefined;
}
const wrap = (value: string, ttlSeconds: number) =>
  JSON.stringify({ value, expiresAt: Date.now() + ttlSeconds * 1000 });

export interface RedisStoreOptions {
  url: string;
  /** Every command fails after this long instead of waiting (a stalled Redis). */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  onConnectionError?: (error: Error) => void;
}

/** One Redis hash per group, one field per entry; the hash's own TTL bounds memory. */
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
  });
  client.on('error', (error) => options.onConnectionError?.(error));
  return {
    kind: 'redis',
    client,
    async read(group, field) {
      return unwrap(await client.hget(group, field));
    },
    async write(group, field, value, ttlSeconds) {
      await client.multi().hset(group, field, wrap(value, ttlSeconds)).expire(group, ttlSeconds).exec();
    },
    async dropGroups(groups) {
      if (groups.length > 0) await client.unlink(...groups);
    },
    async close() {
      client.disconnect();
    },
  };
}

/**
 * In-process LRU, the development default. Dropping a group bumps its generation, which orphans its
 * entries (the LRU evicts them in time). Per process: with several replicas, use Redis.
 */
export function createMemoryStore(maxEntries = 10_000): CacheStore {
  const entries = new LRUCache<string, string>({ max: maxEntries });
  const generations = new Map<string, number>();
  const keyOf = (group: string, field: string) => `${group}#${generations.get(group) ?? 0}#${field}`;
  return {
    kind: 'memory',
    async read(group, field) {
      return unwrap(entries.get(keyOf(group, field)));
    },
    async write(group, field, value, ttlSeconds) {
      entries.set(keyOf(group, field), wrap(value, ttlSeconds));
    },
    async dropGroups(groups) {
      for (const group of groups) generations.set(group, (generations.get(group) ?? 0) + 1);
    },
    async close() {
      entries.clear();
    },
  };
}
