// The read cache as a Fastify plugin (Redis when REDIS_URL is set, otherwise in-process), closed with the app.
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Cache, type CacheStatus, createCache } from '../cache.ts';
import type { ServiceConfig } from '../config-schema.ts';

declare module 'fastify' {
  interface FastifyInstance {
    cache: Cache;
  }
}

export const cachePlugin = fp<{ config: ServiceConfig }>(
  async (app, { config }) => {
    const cache = createCache({
      redisUrl: config.REDIS_URL,
      enabled: config.CACHE_ENABLED,
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
