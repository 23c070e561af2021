// The gateway's operations app, on Fastify: health, readiness (which includes every worker's
// replicas), metrics, the status page and its data, the API reference (/docs) and the merged OpenAPI
// document, and the 404s. It never sees API traffic: the pipeline (app.ts) answers /api/v1/* on
// Bun.serve and hands only the rest to this app through inject(). So a hook or plugin registered
// here (CORS, helmet, a logger hook) does nothing for /api/v1/*: API-wide concerns are pipeline stages.
import type { FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../shared/config-schema.ts';
import { createServiceApp, type ServiceAppOptions } from '../shared/http/create-service-app.ts';
import { cachePlugin } from '../shared/plugins/cache.ts';
import { registerCombinedOpenApi } from './openapi-document.ts';
import { registerOperationsRoutes } from './operations-routes.ts';
import type { Upstream } from './upstreams.ts';

export interface OperationsAppOptions extends Omit<ServiceAppOptions, 'service'> {
  config: ServiceConfig;
  upstreams: Upstream[];
}

export async function buildOperationsApp(options: OperationsAppOptions): Promise<FastifyInstance> {
  const { config, upstreams } = options;
  const app = await createServiceApp({
    ...options,
    service: 'gateway',
    // inject() hands it the client address the pipeline worked out (client-address.ts).
    trustProxyHops: 0,
    overloadEventLoopDelayMs: config.OVERLOAD_EVENT_LOOP_DELAY_MS,
  });
  // With Redis configured, the pipeline answers cached list pages itself (pipeline/edge-cache.ts).
  await app.register(cachePlugin, { config, service: 'gateway' });
  registerCombinedOpenApi(app, upstreams);
  await registerOperationsRoutes(app, config, upstreams);
  return app;
}
