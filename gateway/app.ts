// The gateway: the only public port. Rejects bad tokens cheaply, then forwards by path prefix.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServiceConfig } from '../shared/config-schema.ts';
import { createServiceApp, type ServiceAppOptions } from '../shared/http/create-service-app.ts';
import type { JwtKeys } from '../shared/jwt-keys.ts';
import { accessTokenPlugin } from '../shared/plugins/access-token.ts';
import { CREDENTIAL_ROUTES, rateLimitPlugin } from '../shared/plugins/rate-limits.ts';
import { registerGatewayObservability } from './observability.ts';
import { registerCombinedOpenApi } from './openapi-document.ts';
import { forwardToUpstream, type Upstream } from './upstream-proxy.ts';

export interface GatewayAppOptions extends Omit<ServiceAppOptions, 'service'> {
  config: ServiceConfig;
  /** Only the public key is used: the gateway verifies, it never signs. */
  keys: JwtKeys;
}

/** Routes a caller reaches without an access token. Everything else under /api/v1 needs one. */
const PUBLIC_ROUTES = new Set(['POST /api/v1/auth/register', 'POST /api/v1/auth/login', 'POST /api/v1/auth/refresh']);

export function upstreamsFrom(config: ServiceConfig): Record<string, Upstream> {
  const local = (port: number) => `http://127.0.0.1:${port}`;
  return {
    auth: { name: 'auth', baseUrl: config.AUTH_SERVICE_URL ?? local(config.AUTH_PORT) },
    users: { name: 'user', baseUrl: config.USER_SERVICE_URL ?? local(config.USER_PORT) },
    clients: { name: 'client', baseUrl: config.CLIENT_SERVICE_URL ?? local(config.CLIENT_PORT) },
  };
}

export async function buildApp(options: GatewayAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = await createServiceApp({
    ...options,
    service: 'gateway',
    trustProxyHops: config.TRUST_PROXY_HOPS ?? 0,
    overloadEventLoopDelayMs: config.OVERLOAD_EVENT_LOOP_DELAY_MS,
  });
  // The general per-address limit; login, register and refresh get stricter ones below.
  await app.register(rateLimitPlugin, {
    global: true,
    max: config.RATE_LIMIT_MAX,
    windowSeconds: config.RATE_LIMIT_WINDOW,
  });
  await app.register(accessTokenPlugin, {
    keys: { publicKey: options.keys.publicKey },
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    ttlSeconds: config.ACCESS_TOKEN_TTL,
  });
  const timeoutMs = config.UPSTREAM_TIMEOUT * 1000;

  const upstreams = upstreamsFrom(config);
  // Forwarding routes are documented by the workers that serve them, not here.
  const hidden = { schema: { hide: true } };
  registerCombinedOpenApi(app, Object.values(upstreams));
  await registerGatewayObservability(app, config, Object.values(upstreams));
  for (const [prefix, upstream] of Object.entries(upstreams)) {
    await app.register(async (scope) => {
      // Bodies pass through as bytes: the worker parses and validates them, not the gateway.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
      // After the rate limit (a route-level onRequest hook) and before the body is read.
      scope.addHook('preParsing', async (request: FastifyRequest, reply, payload) => {
        const path = request.url.split('?')[0];
        if (!PUBLIC_ROUTES.has(`${request.method} ${path}`)) await scope.authenticate(request, reply);
        return payload;
      });
      const handler = (request: FastifyRequest, reply: Parameters<typeof forwardToUpstream>[1]) =>
        forwardToUpstream(request, reply, upstream, timeoutMs);
      if (prefix === 'auth') {
        // Credential routes: a stricter per-address limit here, a per-account one in the auth worker.
        const perAddress = { max: config.AUTH_RATE_LIMIT_MAX, timeWindow: config.RATE_LIMIT_WINDOW * 1000 };
        for (const path of CREDENTIAL_ROUTES)
          scope.post(path, { ...hidden, config: { rateLimit: perAddress } }, handler);
      }
      scope.all(`/api/v1/${prefix}`, hidden, handler);
      scope.all(`/api/v1/${prefix}/*`, hidden, handler);
    });
  }
  return app;
}
