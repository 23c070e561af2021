// The gateway: one public port whose requests run through an ordered list of stages (pipeline/),
// each in its own file. API traffic (/api/v1/*) is forwarded on Bun.serve and never enters Fastify;
// everything else is answered by the operations app (operations-app.ts) via inject(), or, in
// production, only on the operations listener (operations-listener.ts).
//
// Why not Fastify for the API path: on Bun, Fastify runs on the node:http compatibility layer, and
// profiling the proxy showed that layer costing about as much as the upstream fetch itself (~0.65x of
// a minimal Bun.serve + fetch forwarder). @fastify/http-proxy and @fastify/reply-from cannot help:
// their default transport answers 500 to everything on Bun and their http transport is slower still.
//
// buildApp() never listens; listen.ts's listenGateway() opens the port, for server.ts and tests alike.
import type { Server } from 'bun';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../shared/config-schema.ts';
import type { ServiceAppOptions } from '../shared/http/create-service-app.ts';
import type { JwtKeys } from '../shared/jwt-keys.ts';
import { replicasKey, SERVICES, type ServiceRegistry, serviceSetting } from '../shared/services.ts';
import { buildOperationsApp } from './operations-app.ts';
import { type OperationsListener, operationsListenerFor } from './operations-listener.ts';
import { admissionStages } from './pipeline/admission.ts';
import { apiRouteStage } from './pipeline/api-route.ts';
import { bodyLimitStage, discardUnreadBody } from './pipeline/body-limit.ts';
import { clientAddressReader } from './pipeline/client-address.ts';
import { corsStage, parseOrigins } from './pipeline/cors.ts';
import { edgeCacheStage } from './pipeline/edge-cache.ts';
import { forwardStage } from './pipeline/forward.ts';
import { livenessStage } from './pipeline/liveness.ts';
import { operationsStage } from './pipeline/operations.ts';
import { overloadStage } from './pipeline/overload.ts';
import { type GatewayRequest, runPipeline, type Stage } from './pipeline/pipeline.ts';
import { rateLimitStage } from './pipeline/rate-limit.ts';
import { requestIdStage } from './pipeline/request-id.ts';
import { securityHeadersStage } from './pipeline/security-headers.ts';
import { accessTokenReader, tokenCheckStage } from './pipeline/token-check.ts';
import { type Upstream, upstreamsFrom } from './upstreams.ts';

export interface GatewayAppOptions extends Omit<ServiceAppOptions, 'service'> {
  config: ServiceConfig;
  /** Only the public key is used: the gateway verifies, it never signs. */
  keys: JwtKeys;
  /** Defaults to poolwise's services; tests pass a registry with a fictitious worker. */
  registry?: ServiceRegistry;
}

export interface GatewayApp {
  /** The Fastify app behind the operational routes (health, metrics, status, docs, OpenAPI). */
  operations: FastifyInstance;
  /** Set when those routes have a listener of their own (always in production); the public port then refuses them. */
  operationsListener?: OperationsListener;
  upstreams: Upstream[];
  stages: readonly Stage[];
  log: FastifyBaseLogger;
  /** Set on SIGTERM (shared/http/run-service.ts): readiness fails at once while requests are still served. */
  draining: boolean;
  /** Answers one request from the public port. */
  handle(request: Request, server: Server<unknown>): Promise<Response>;
  /** Readies the operations app, starts the replicas' health probes and name resolution. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function buildApp(options: GatewayAppOptions): Promise<GatewayApp> {
  const { config } = options;
  let log: FastifyBaseLogger | undefined;
  const upstreams = upstreamsFrom(config, options.registry ?? SERVICES, {
    policy: config.UPSTREAM_BALANCING,
    onChange: (event) =>
      event.state === 'ejected'
        ? log?.warn(event, `replica ${event.origin} ejected for ${event.forMs} ms: ${event.reason}`)
        : log?.info(event, `replica ${event.origin} back in rotation`),
  });
  const operations = await buildOperationsApp({ ...options, upstreams });
  const operationsListener = operationsListenerFor(config);
  log = operations.log;
  // Only a shared cache can be read here: an in-process one lives in the worker.
  const edgeCache = config.EDGE_CACHE_ENABLED && operations.cache?.kind === 'redis' ? operations.cache : undefined;
  const isOverloaded = () =>
    (operations as FastifyInstance & { isUnderPressure?: () => boolean }).isUnderPressure?.() ?? false;

  // Bounds what each worker is sent at once; the excess waits briefly or is refused at once.
  const admission =
    config.UPSTREAM_MAX_IN_FLIGHT > 0
      ? admissionStages(upstreams, {
          maxInFlightPerReplica: config.UPSTREAM_MAX_IN_FLIGHT,
          queueLimitPerReplica: config.UPSTREAM_QUEUE_LIMIT,
          queueTimeoutMs: config.UPSTREAM_QUEUE_TIMEOUT_MS,
          retryAfterMaxSeconds: config.UPSTREAM_RETRY_AFTER_MAX_SECONDS,
        })
      : undefined;

  // Who is calling, worked out once per request by whichever stage asks first.
  const clientAddressOf = clientAddressReader(config.TRUST_PROXY_HOPS ?? 0);
  const accessTokenOf = accessTokenReader({
    publicKey: options.keys.publicKey,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });

  // The public path, in order. API-wide concerns belong here as stages. Headers every answer needs
  // (security, CORS) come from stages placed before anything that can answer.
  const stages: Stage[] = [
    requestIdStage,
    securityHeadersStage({ production: config.NODE_ENV === 'production' }),
    corsStage(parseOrigins(config.CORS_ORIGINS)),
    livenessStage,
    // A lagging process refuses before anything else costs it work (the rate limit checks a token).
    overloadStage(isOverloaded),
    rateLimitStage(
      {
        max: config.RATE_LIMIT_MAX,
        credentialMax: config.AUTH_RATE_LIMIT_MAX,
        windowSeconds: config.RATE_LIMIT_WINDOW,
        gatewayReplicas: serviceSetting<number>(config, replicasKey('gateway')) ?? 1,
      },
      { clientAddressOf, accessTokenOf },
    ),
    apiRouteStage(upstreams),
    ...(admission ? [admission.door] : []),
    operationsStage(operations, { onPublicPort: operationsListener === undefined, clientAddressOf }),
    tokenCheckStage(accessTokenOf),
    ...(edgeCache ? [edgeCacheStage(edgeCache)] : []),
    bodyLimitStage,
    ...(admission ? [admission.gate] : []),
    forwardStage({
      timeoutMs: config.UPSTREAM_TIMEOUT * 1000,
      log: operations.log,
      observe: operations.observeUpstream,
    }),
  ];

  return {
    operations,
    operationsListener,
    upstreams,
    stages,
    log: operations.log,
    // Readiness is the operations app's, so that is where draining must be seen.
    get draining() {
      return operations.draining;
    },
    set draining(value: boolean) {
      operations.draining = value;
    },
    async handle(request, server) {
      const context = {
        request,
        url: new URL(request.url),
        server,
        started: performance.now(),
      } as GatewayRequest;
      const response = await runPipeline(stages, context);
      // A refusal given without reading the body goes out once the client has finished sending it.
      const discarding = discardUnreadBody(request);
      if (discarding) await discarding;
      if (context.upstream) {
        operations.observeProxied(
          { method: request.method, route: context.upstream.route, status_code: String(response.status) },
          (performance.now() - context.started) / 1000,
        );
      }
      return response;
    },
    async start() {
      await operations.ready();
      await Promise.all(upstreams.map((upstream) => upstream.replicas.start()));
    },
    async close() {
      for (const upstream of upstreams) upstream.replicas.stop();
      await operations.close();
    },
  };
}
