// Forwards one request to a worker with fetch.
//
// Written by hand, on purpose: on Bun, @fastify/http-proxy / @fastify/reply-from answer 500 to every
// request with their default transport (Bun swaps undici for a stand-in without `request`), and their
// `http` transport runs at ~0.2x of a plain fetch forwarder on our machines (see README, "Gateway").
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable } from '../shared/http/errors.ts';

export interface Upstream {
  /** Name used in errors and logs, e.g. `auth`. */
  name: string;
  baseUrl: string;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and ones fetch computes itself never cross the proxy. */
const HOP_BY_HOP = new Set([
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
]);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A refused connection is retried once, and only for requests that are safe to repeat. */
const IDEMPOTENT_RETRIES = 1;

function isTimeout(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function forwardedHeaders(request: FastifyRequest): Headers {
  const headers = new Headers();
  const connectionListed = new Set(
    String(request.headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionListed.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const priorFor = request.headers['x-forwarded-for'];
  headers.set('x-forwarded-for', priorFor ? `${priorFor}, ${request.ip}` : request.ip);
  headers.set('x-forwarded-proto', request.protocol);
  headers.set('x-forwarded-host', request.headers.host ?? '');
  headers.set('x-request-id', String(request.id));
  return headers;
}

export async function forwardToUpstream(
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: Upstream,
  timeoutMs: number,
): Promise<FastifyReply> {
  const target = new URL(request.url, upstream.baseUrl);
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== undefined;
  const attempts = IDEMPOTENT.has(request.method) ? 1 + IDEMPOTENT_RETRIES : 1;
  let response: Response | undefined;
  for (let attempt = 1; attempt <= attempts && !response; attempt++) {
    try {
      response = await fetch(target, {
        method: request.method,
        headers: forwardedHeaders(request),
        body: hasBody ? (request.body as Buffer) : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (isTimeout(error)) {
        request.log.warn({ upstream: upstream.name, timeoutMs }, 'upstream timed out');
        throw new UpstreamTimeout(upstream.name);
      }
      request.log.warn({ upstream: upstream.name, err: error, attempt }, 'upstream unreachable');
      if (attempt === attempts) throw new UpstreamUnavailable(upstream.name);
    }
  }
  if (!response) throw new UpstreamUnavailable(upstream.name);

  reply.code(response.status);
  for (const [name, value] of response.headers) {
    // fetch already decoded the body, so its encoding and length headers no longer apply.
    if (HOP_BY_HOP.has(name) || name === 'content-encoding') continue;
    reply.header(name, value);
  }
  try {
    return reply.send(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    if (isTimeout(error)) throw new UpstreamTimeout(upstream.name);
    request.log.warn({ upstream: upstream.name, err: error }, 'upstream response broke off');
    throw new UpstreamBadResponse(upstream.name);
  }
}
