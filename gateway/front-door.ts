// The gateway's public port. API traffic (/api/v1/*) is forwarded here, on Bun.serve, and never
// enters Fastify: everything else (health, readiness, metrics, status, docs, OpenAPI, 404s) is handed
// to the gateway's Fastify app, which listens on an internal loopback port.
//
// Written by hand, on purpose. On Bun, Fastify runs on the node:http compatibility layer; profiling
// the proxy showed that layer (request parsing and writeHead/end) costing about as much as the
// upstream fetch itself, which held the Fastify-based proxy to ~0.65x of a minimal Bun.serve + fetch
// forwarder. @fastify/http-proxy and @fastify/reply-from cannot help: their default transport
// answers 500 to everything on Bun and their http transport is slower still. So the hot path keeps
// only what it must: request id, per-address rate limits, token verification, forwarding headers,
// streaming bodies both ways, and mapping upstream failures into the one error shape.
import { randomUUID } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../shared/config-schema.ts';
import { renderError } from '../shared/http/error-handler.ts';
import {
  AuthRequired,
  AuthTokenInvalid,
  InternalError,
  PayloadTooLarge,
  RateLimited,
  ServiceOverloaded,
  UpstreamBadResponse,
  UpstreamTimeout,
  UpstreamUnavailable,
} from '../shared/http/errors.ts';
import { accessTokenVerifyRules } from '../shared/plugins/access-token.ts';
import { CREDENTIAL_ROUTES } from '../shared/plugins/rate-limits.ts';
import { AddressRateLimiter } from './address-rate-limiter.ts';
import { answerListFromCache } from './edge-cache.ts';
import type { Upstream } from './upstreams.ts';

/** Fastify's default body limit, kept for API bodies too. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const PUBLIC_ROUTES = new Set(CREDENTIAL_ROUTES.map((path) => `POST ${path}`));
/** Answered by the front door itself (same body as the app's routes of these names). */
const LIVENESS_PATHS = new Set(['/health', '/health/live']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Hop-by-hop headers (RFC 9110 §7.6.1) and ones fetch computes itself never cross the proxy. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
];

export interface FrontDoorOptions {
  app: FastifyInstance;
  config: ServiceConfig;
  publicKey: string;
  upstreams: Record<string, Upstream>;
  host: string;
  port: number;
  /** Called for every API request answered here (the Fastify app counts its own). */
  observe?: (labels: { method: string; route: string; status_code: string }, seconds: number) => void;
}

export interface RunningGateway {
  url: string;
  /** Stops accepting, lets in-flight requests finish, then closes the Fastify app. */
  close(): Promise<void>;
}

function errorResponse(error: FastifyError, requestId: string): Response {
  const { body, retryAfter } = renderError(error, requestId);
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'x-request-id': requestId,
  };
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return new Response(JSON.stringify(body), { status: body.statusCode, headers });
}

const isTimeout = (error: unknown) => ['TimeoutError', 'AbortError'].includes((error as Error)?.name);

export async function startGateway(options: FrontDoorOptions): Promise<RunningGateway> {
  const { app, config, upstreams } = options;
  const internalUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const timeoutMs = config.UPSTREAM_TIMEOUT * 1000;
  const windowMs = config.RATE_LIMIT_WINDOW * 1000;
  const generalLimit = new AddressRateLimiter(config.RATE_LIMIT_MAX, windowMs);
  const credentialLimit = new AddressRateLimiter(config.AUTH_RATE_LIMIT_MAX, windowMs);
  const verifyToken = createVerifier({
    key: options.publicKey,
    ...accessTokenVerifyRules(config.JWT_ISSUER, config.JWT_AUDIENCE),
  });
  // Only a shared cache can be read here: an in-process one lives in the worker.
  const edgeCache = config.EDGE_CACHE_ENABLED && app.cache?.kind === 'redis' ? app.cache : undefined;
  const overloaded = () => (app as FastifyInstance & { isUnderPressure?: () => boolean }).isUnderPressure?.() ?? false;
  const prefixes = Object.entries(upstreams).map(([prefix, upstream]) => ({
    path: `/api/v1/${prefix}`,
    route: `/api/v1/${prefix}/*`,
    upstream,
  }));

  async function forwardApi(
    request: Request,
    url: URL,
    target: (typeof prefixes)[number],
    requestId: string,
    clientAddress: string,
  ): Promise<Response> {
    const key = `${request.method} ${url.pathname}`;
    if (!PUBLIC_ROUTES.has(key)) {
      const authorization = request.headers.get('authorization');
      const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      if (!token) return errorResponse(new AuthRequired(), requestId);
      let subject: string;
      try {
        subject = (verifyToken(token) as { sub: string }).sub;
      } catch {
        return errorResponse(new AuthTokenInvalid(), requestId);
      }
      if (edgeCache) {
        const cached = await answerListFromCache(edgeCache, request, url, subject, requestId);
        if (cached) return cached;
      }
    }
    if (Number(request.headers.get('content-length') ?? 0) > BODY_LIMIT_BYTES) {
      return errorResponse(new PayloadTooLarge(), requestId);
    }

    const headers = new Headers(request.headers);
    for (const name of (request.headers.get('connection') ?? '').split(',')) {
      if (name.trim()) headers.delete(name.trim()); // headers the client marked hop-by-hop
    }
    for (const name of HOP_BY_HOP) headers.delete(name);
    const priorFor = request.headers.get('x-forwarded-for');
    headers.set('x-forwarded-for', priorFor ? `${priorFor}, ${clientAddress}` : clientAddress);
    headers.set('x-forwarded-proto', url.protocol.replace(':', ''));
    headers.set('x-forwarded-host', request.headers.get('host') ?? '');
    headers.set('x-request-id', requestId);

    const destination = `${target.upstream.baseUrl}${url.pathname}${url.search}`;
    const attempts = IDEMPOTENT.has(request.method) ? 2 : 1; // a refused connection is retried once, and only if safe
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(destination, {
          method: request.method,
          headers,
          body: request.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const answer = new Headers(response.headers);
        for (const name of HOP_BY_HOP) answer.delete(name);
        answer.delete('content-encoding'); // fetch has already decoded the body
        answer.set('x-request-id', requestId);
        return new Response(response.body, { status: response.status, headers: answer });
      } catch (error) {
        if (isTimeout(error)) {
          app.log.warn({ upstream: target.upstream.name, requestId, timeoutMs }, 'upstream timed out');
          return errorResponse(new UpstreamTimeout(target.upstream.name), requestId);
        }
        if (attempt < attempts) continue;
        app.log.warn({ upstream: target.upstream.name, requestId, err: error }, 'upstream failed');
        // Nobody listening: the worker is down (503). It took the connection, then broke it: 502.
        const refused = ['ECONNREFUSED', 'ConnectionRefused'].includes((error as { code?: string }).code ?? '');
        return errorResponse(
          refused ? new UpstreamUnavailable(target.upstream.name) : new UpstreamBadResponse(target.upstream.name),
          requestId,
        );
      }
    }
  }

  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    // Bun's own hard cap (it answers a bare 413 past it). Declared bodies over BODY_LIMIT_BYTES get our
    // 413 below; a chunked body over it is refused by the worker's own 1 MiB limit, in the same shape.
    maxRequestBodySize: 8 * BODY_LIMIT_BYTES,
    async fetch(request, bunServer) {
      const started = performance.now();
      const url = new URL(request.url);
      const incomingId = request.headers.get('x-request-id');
      const requestId = incomingId && ACCEPTABLE_REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
      const clientAddress = bunServer.requestIP(request)?.address ?? 'unknown';

      const limited =
        (request.method === 'POST' && (CREDENTIAL_ROUTES as readonly string[]).includes(url.pathname)
          ? credentialLimit.take(clientAddress)
          : undefined) ?? generalLimit.take(clientAddress);
      if (limited) {
        const response = errorResponse(new RateLimited(limited.retryAfterSeconds), requestId);
        response.headers.set('retry-after', String(limited.retryAfterSeconds));
        return response;
      }

      if (request.method === 'GET' && LIVENESS_PATHS.has(url.pathname)) {
        // Liveness is this process answering: no need to ask the app behind.
        return Response.json({ status: 'ok', service: 'gateway' }, { headers: { 'x-request-id': requestId } });
      }
      // The app's event-loop check (@fastify/under-pressure) measures this same process.
      if (overloaded()) return errorResponse(new ServiceOverloaded(), requestId);
      const target = prefixes.find(
        (prefix) => url.pathname === prefix.path || url.pathname.startsWith(`${prefix.path}/`),
      );
      if (!target) {
        // Not API traffic: the gateway's own routes, served by Fastify.
        const headers = new Headers(request.headers);
        headers.set('x-request-id', requestId);
        headers.set('x-forwarded-for', clientAddress);
        return fetch(`${internalUrl}${url.pathname}${url.search}`, {
          method: request.method,
          headers,
          body: request.body,
        });
      }
      const response = await forwardApi(request, url, target, requestId, clientAddress);
      options.observe?.(
        { method: request.method, route: target.route, status_code: String(response.status) },
        (performance.now() - started) / 1000,
      );
      return response;
    },
    error(error) {
      app.log.error({ err: error }, 'gateway front door failed');
      return errorResponse(new InternalError(), randomUUID());
    },
  });

  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${server.port}`;
  app.log.info(`Gateway listening at ${url} (its own routes served behind it at ${internalUrl})`);
  return {
    url,
    async close() {
      await server.stop();
      await app.close();
    },
  };
}
