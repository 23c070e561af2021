// The gateway's Fastify app: its own routes (health, readiness, metrics, status page, API reference,
// merged OpenAPI) and the 404s. API traffic never reaches it: front-door.ts forwards /api/v1/* on
// Bun.serve and hands everything else to this app. buildApp() never listens; startGateway() does.
import type { FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../shared/config-schema.ts';
import { createServiceApp, type ServiceAppOptions } from '../shared/http/create-service-app.ts';
import type { JwtKeys } from '../shared/jwt-keys.ts';
import { cachePlugin } from '../shared/plugins/cache.ts';
import { type RunningGateway, startGateway } from './front-door.ts';
import { registerGatewayObservability } from './observability.ts';
import { registerCombinedOpenApi } from './openapi-document.ts';
import { upstreamsFrom } from './upstreams.ts';

export interface GatewayAppOptions extends Omit<ServiceAppOptions, 'service'> {
  config: ServiceConfig;
  /** Only the public key is used: the gateway verifies, it never signs. */
  keys: JwtKeys;
}

export async function buildApp(options: GatewayAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  // The front door is the only thing in front of this app (on loopback): trust its X-Forwarded-For.
  const app = await createServiceApp({
    ...options,
    service: 'gateway',
    trustProxyHops: (config.TRUST_PROXY_HOPS ?? 0) + 1,
    overloadEventLoopDelayMs: config.OVERLOAD_EVENT_LOOP_DELAY_MS,
  });
  // With Redis configured, the front door answers cached list pages itself (edge-cache.ts).
  await app.register(cachePlugin, { config });
  const upstreams = Object.values(upstreamsFrom(config));
  registerCombinedOpenApi(app, upstreams);
  await registerGatewayObservability(app, config, upstreams);
  return app;
}

/** Builds the app and opens the public port (front door in front, app on an internal port). */
export async function buildAndStartGateway(
  options: GatewayAppOptions & { host: string; port: number },
): Promise<RunningGateway> {
  const app = await buildApp(options);
  return startGateway({
    app,
    config: options.config,
    publicKey: options.keys.publicKey,
    upstreams: upstreamsFrom(options.config),
    host: options.host,
    port: options.port,
    observe: app.observeProxied,
  });
}
