// Stage: the API hop. Picks a replica of the worker (replica-set.ts), forwards the request with
// x-forwarded-* and x-request-id, streams both bodies, and maps every failure into the error shape:
// nothing listening → 503 UPSTREAM_UNAVAILABLE + Retry-After, taken and broken → 502, too slow → 504.
//
// Retries: only safe methods (GET, HEAD, OPTIONS), once, on another replica: when the connection was
// refused, when the worker broke it before answering (it was killed mid-request), or when the request
// was waiting on a replica the health probe has just ejected (its host cut off: nothing will ever
// answer). A safe request has no effect to repeat. Nothing else is retried: a POST whose connection
// broke may have been applied (the client can retry it safely with an Idempotency-Key).
import {
  PayloadTooLarge,
  UpstreamBadResponse,
  UpstreamTimeout,
  UpstreamUnavailable,
} from '../../shared/http/errors.ts';
import type { Replica } from '../replica-set.ts';
import type { Upstream } from '../upstreams.ts';
import { socketAddressOf } from './client-address.ts';
import { errorResponse, type GatewayRequest, type Stage } from './pipeline.ts';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and ones fetch computes itself never cross the proxy. */
export const HOP_BY_HOP = [
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
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ConnectionRefused']);

export interface UpstreamObservation {
  upstream: string;
  replica: string;
  /** The status the replica answered, or what went wrong: refused, broken, timeout, moved. */
  outcome: string;
}

export interface ForwardOptions {
  timeoutMs: number;
  log: { warn(details: object, message: string): void };
  /** Called once per attempt, for the upstream metrics (labelled by replica). */
  observe?: (observation: UpstreamObservation, seconds: number) => void;
}

class Ejected extends Error {}

function upstreamHeaders(context: GatewayRequest): Headers {
  const { request } = context;
  const headers = new Headers(request.headers);
  for (const name of (request.headers.get('connection') ?? '').split(',')) {
    if (name.trim()) headers.delete(name.trim()); // headers the client marked hop-by-hop
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
  const priorFor = request.headers.get('x-forwarded-for');
  const socketAddress = socketAddressOf(context);
  headers.set('x-forwarded-for', priorFor ? `${priorFor}, ${socketAddress}` : socketAddress);
  headers.set('x-forwarded-proto', context.url.protocol.replace(':', ''));
  headers.set('x-forwarded-host', request.headers.get('host') ?? '');
  headers.set('x-request-id', context.requestId);
  return headers;
}

function downstreamHeaders(response: Response): Headers {
  const headers = new Headers(response.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  headers.delete('content-encoding'); // fetch has already decoded the body
  return headers;
}

export function forwardStage(options: ForwardOptions): Stage {
  return {
    name: 'forward',
    handle: (context) => forward(context, context.upstream as Upstream, options),
  };
}

async function forward(context: GatewayRequest, upstream: Upstream, options: ForwardOptions): Promise<Response> {
  const { request, url, requestId } = context;
  const safe = SAFE_METHODS.has(request.method);
  const headers = upstreamHeaders(context);
  const deadline = performance.now() + options.timeoutMs;
  let previous: Replica | undefined;
  for (let attempt = 1; ; attempt++) {
    const replica = upstream.replicas.pick(previous);
    if (!replica) {
      return errorResponse(
        new UpstreamUnavailable(upstream.name),
        requestId,
        Math.min(upstream.replicas.retryAfterSeconds(), 30),
      );
    }
    const started = performance.now();
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new DOMException('upstream timed out', 'TimeoutError')),
      deadline - started,
    );
    const stopWatching = safe ? upstream.replicas.onEject(replica, () => abort.abort(new Ejected())) : () => {};
    const observe = (outcome: string) =>
      options.observe?.(
        { upstream: upstream.name, replica: replica.origin, outcome },
        (performance.now() - started) / 1000,
      );
    replica.inFlight++;
    try {
      const response = await fetch(`${replica.origin}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        body: context.countedBody?.stream ?? request.body,
        redirect: 'manual',
        signal: abort.signal,
      });
      observe(String(response.status));
      if (response.status < 500) upstream.replicas.served(replica);
      return new Response(response.body, { status: response.status, headers: downstreamHeaders(response) });
    } catch (caught) {
      // The client's own body went over the limit (body-limit.ts): its fault, not the worker's.
      if (context.countedBody?.tooLarge) return errorResponse(new PayloadTooLarge(), requestId);
      const error = abort.signal.aborted ? abort.signal.reason : caught;
      // A body (rare on a safe method) has been streamed away by the first attempt: nothing to resend.
      const canRetry = safe && attempt < 2 && request.body === null;
      if (error instanceof Ejected) {
        observe('moved');
        if (canRetry) {
          previous = replica;
          continue;
        }
        return errorResponse(new UpstreamUnavailable(upstream.name), requestId);
      }
      if ((error as Error)?.name === 'TimeoutError') {
        observe('timeout');
        options.log.warn({ upstream: upstream.name, replica: replica.origin, requestId }, 'upstream timed out');
        return errorResponse(new UpstreamTimeout(upstream.name), requestId);
      }
      const refused = REFUSED_CODES.has((error as { code?: string })?.code ?? '');
      observe(refused ? 'refused' : 'broken');
      options.log.warn({ upstream: upstream.name, replica: replica.origin, requestId, err: error }, 'upstream failed');
      if (refused) {
        // Nobody listening: this replica is down. It sits out a back-off; a safe request tries another.
        upstream.replicas.eject(replica, 'connection refused');
        if (canRetry) {
          previous = replica;
          continue;
        }
        return errorResponse(new UpstreamUnavailable(upstream.name), requestId);
      }
      if (canRetry) {
        previous = replica;
        continue;
      }
      // It took the connection, then broke it: whatever it did is unknown, so an unsafe request is
      // never retried here.
      return errorResponse(new UpstreamBadResponse(upstream.name), requestId);
    } finally {
      replica.inFlight--;
      clearTimeout(timer);
      stopWatching();
    }
  }
}
