// The common base of the auth, user and client workers: service app + pooled database + read cache +
// token verification (signature, then the token's session, see shared/plugins/access-token.ts).
import type { FastifyInstance } from 'fastify';
import type { ServiceConfig, ServiceName } from '../config-schema.ts';
import type { JwtKeys } from '../jwt-keys.ts';
import { accessTokenPlugin } from '../plugins/access-token.ts';
import { cachePlugin } from '../plugins/cache.ts';
import { databasePlugin } from '../plugins/database.ts';
import { workerObservabilityPlugin } from '../plugins/worker-observability.ts';
import { type CachedSessionStanding, createCachedSessionStanding } from '../repositories/cached-session-standing.ts';
import { createSessionRepository } from '../repositories/session-repository.ts';
import { publicUserSchema } from '../schemas/user.ts';
import { createServiceApp, type ServiceAppOptions } from './create-service-app.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every access token's session check; routes that end sessions call its forgetUser(). */
    sessionStanding: CachedSessionStanding;
  }
}

export interface WorkerAppOptions extends Omit<ServiceAppOptions, 'service'> {
  config: ServiceConfig;
  keys: JwtKeys;
}

export async function buildWorkerApp(service: ServiceName, options: WorkerAppOptions): Promise<FastifyInstance> {
  const app = await createServiceApp({
    ...options,
    service,
    // The gateway is one more proxy in front of a worker than the ones in front of the gateway.
    trustProxyHops: options.config.TRUST_PROXY_HOPS + 1,
    overloadEventLoopDelayMs: options.config.OVERLOAD_EVENT_LOOP_DELAY_MS,
  });
  app.addSchema(publicUserSchema);
  await app.register(databasePlugin, { service, config: options.config });
  await app.register(cachePlugin, { config: options.config, service });
  await app.register(workerObservabilityPlugin, { service });
  const sessionStanding = createCachedSessionStanding(app.cache, createSessionRepository(app.db.prisma));
  app.decorate('sessionStanding', sessionStanding);
  await app.register(accessTokenPlugin, {
    keys: options.keys,
    issuer: options.config.JWT_ISSUER,
    audience: options.config.JWT_AUDIENCE,
    ttlSeconds: options.config.ACCESS_TOKEN_TTL,
    isSessionLive: sessionStanding.isLive,
  });
  return app;
}
