// Stage: everything that is not API traffic (health, readiness, metrics, status, docs, OpenAPI, 404s)
// is answered by the operations app, a Fastify app, through inject(): no network hop, so redirects
// (/docs → /docs/) reach the client as redirects, nothing is decoded twice, and a stuck route is
// bounded by the app's own timeouts. Hooks registered on that app run only here, never for /api/v1/*.
//
// With an operations listener of their own (production, operations-listener.ts), the public port
// answers every such path 404 itself: readiness, metrics, status, docs and OpenAPI are internal.
import type { FastifyInstance } from 'fastify';
import { RouteNotFound } from '../../shared/http/errors.ts';
import type { ClientAddressOf } from './client-address.ts';
import { errorResponse, type GatewayRequest, type Stage } from './pipeline.ts';

/** Hop-by-hop headers and ones the Response computes itself (RFC 9110 §7.6.1). */
export const NOT_PASSED_ON = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export function operationsStage(
  operations: FastifyInstance,
  where: { onPublicPort: boolean; clientAddressOf: ClientAddressOf },
): Stage {
  async function answerOperations(context: GatewayRequest): Promise<Response> {
    if (!where.onPublicPort) {
      return errorResponse(new RouteNotFound(context.request.method, context.url.pathname), context.requestId);
    }
    const { request } = context;
    const headers: Record<string, string> = Object.fromEntries(request.headers);
    headers['x-request-id'] = context.requestId;
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
    const answer = await operations.inject({
      method: request.method as 'GET',
      url: context.url.pathname + context.url.search,
      headers,
      remoteAddress: where.clientAddressOf(context),
      ...(hasBody ? { payload: Buffer.from(await request.arrayBuffer()) } : {}),
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || NOT_PASSED_ON.has(name)) continue;
      for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, String(one));
    }
    const bodiless = request.method === 'HEAD' || answer.statusCode === 204 || answer.statusCode === 304;
    return new Response(bodiless ? null : answer.rawPayload, { status: answer.statusCode, headers: responseHeaders });
  }
  return {
    name: 'operations',
    handle(context) {
      // API traffic passes without a promise to await (pipeline.ts awaits only promises).
      return context.upstream ? undefined : answerOperations(context);
    },
  };
}
