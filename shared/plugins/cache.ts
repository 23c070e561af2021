// The read cache as a Fastify plugin (Redis when REDIS_URL is set, otherwise in-process), closed with the app.
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Cache, type CacheStatus, createCache } from '../cache.ts';
import type { ServiceConfig } from '../config-schema.ts';
import { replicasKey, serviceSetting } from '../services.ts';

declare module 'fastify' {
  interface FastifyInstance {
    cache: Cache;
  }
}

/**
 * An in-process cache is only correct in a service that runs once: replicas would each keep their
 * own copy and never see each other's invalidations (a client deleted through one replica would stay
 * readable through another for CACHE_TTL). So with `<SERVICE>_REPLICAS` above 1 and no REDIS_URL,
 * the cache is off, and the log says why.
 */
export function inProcessCacheRefusal(config: ServiceConfig, service: string): string | undefined {
  const replicas = serviceSetting<number>(config, replicasKey(service)) ?? 1;
  if (config.REDIS_URL || !config.CACHE_ENABLED || replicas <= 1) return undefined;
  return (
    `cache off: ${replicasKey(service)}=${replicas} without REDIS_URL, and in-process caches of ` +
    "replicas do not see each other's invalidations; set REDIS_URL to cache"
  );
}

export const cachePlugin = fp<{ config: ServiceConfig; service: string }>(
  async (app, { config, service }) => {
    const refusal = inProcessCacheRefusal(config, service);
    if (refusal) app.log.warn(refusal);
    const cache = createCache({
      redisUrl: config.REDIS_URL,
      enabled: config.CACHE_ENABLED && !refusal,
      ttlSeconds: config.CACHE_TTL,
      timeoutMs: config.CACHE_TIMEOUT_MS,
      logger: app.log,
    });
    app.log.info(
      { cache: cache.kind, ttlSeconds: config.CACHE_TTL, timeoutMs: config.CACHE_TIMEOUT_MS },
      `cache: ${cache.kind}`,
    );
    app.decorate('cache', cache);
    app.addHook('onClose', async () => cache.close());
  },
  { name: 'poolwise-cache' },
);

/** `Cache-Control: no-cache` from the caller reads from the database; the cache is neither read nor filled. */
export const wantsFreshRead = (request: FastifyRequest) => /no-cache/i.test(request.headers['cache-control'] ?? '');

/** Says where the answer came from: `x-cache: hit | miss | bypass`. */
export function markCacheStatus(reply: FastifyReply, status: CacheStatus): void {
  reply.header('x-cache', status);
}
