// `bun run dev` runs Redis the way production does when the machine allows it: the gateway's edge
// cache and cross-process invalidation (several replicas) only exist with Redis. With a configured
// REDIS_URL that one is used; without redis-server installed the runner says so loudly and the
// services fall back to their in-process cache.
import type { ServiceConfig } from '../../shared/config-schema.ts';
import { findBinary } from '../stack/processes.ts';
import { startRedis } from '../stack/redis.ts';

export interface DevCache {
  /** Set for the services' environment when the runner starts Redis itself. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const nothingToStop = async () => {};

export async function prepareDevCache(
  config: Pick<ServiceConfig, 'REDIS_URL' | 'CACHE_ENABLED'>,
  say: (line: string) => void,
): Promise<DevCache> {
  if (config.REDIS_URL) {
    say('Using the configured REDIS_URL as the cache.');
    return { env: {}, stop: nothingToStop };
  }
  if (!config.CACHE_ENABLED) return { env: {}, stop: nothingToStop };
  if (!findBinary('redis-server')) {
    say(
      '\x1b[1;33mNOTICE: redis-server is not installed, so there is no edge cache at the gateway and each ' +
        'process caches on its own (several replicas run without a cache). Install it (apt-get install ' +
        'redis-server / brew install redis) to cache as in production.\x1b[0m',
    );
    return { env: {}, stop: nothingToStop };
  }
  const redis = await startRedis();
  say(`Redis (a cache only: bounded, no persistence) listens on 127.0.0.1:${redis.port}.`);
  return { env: { REDIS_URL: redis.url }, stop: () => redis.stop() };
}
