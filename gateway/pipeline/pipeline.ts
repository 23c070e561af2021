// The gateway's public path as an ordered list of small stages (gateway/app.ts lists them). Each
// stage either answers (returns a Response, and the stages after it never run) or lets the request
// go on (returns undefined). On the way out, every stage that ran may add headers to the answer.
import type { Server } from 'bun';
import type { FastifyError } from 'fastify';
import { renderError } from '../../shared/http/error-handler.ts';
import type { Upstream } from '../upstreams.ts';
import type { CountedBody } from './body-limit.ts';

export interface GatewayRequest {
  request: Request;
  url: URL;
  server: Server<unknown>;
  /** performance.now() when the request arrived. */
  started: number;
  /** Set by request-id.ts. */
  requestId: string;
  /** Set by client-address.ts: the socket's peer (read once: requestIP is not free), the client's address after the trusted proxies, and its limit key. */
  socketAddress?: string;
  clientAddress: string;
  clientKey: string;
  /** Set by api-route.ts when the path is API traffic. */
  upstream?: Upstream;
  /** Set by body-limit.ts for a body of undeclared length (chunked): the body as forwarded, counted on its way. */
  countedBody?: CountedBody;
  /** Set by token-check.ts: the verified token's subject and session id. */
  subject?: string;
  sessionId?: string;
}

export interface Stage {
  name: string;
  handle(context: GatewayRequest): Response | undefined | Promise<Response | undefined>;
  /** Runs on the way out, in reverse order, for every stage whose handle ran. */
  finish?(context: GatewayRequest, response: Response): void;
}

export async function runPipeline(stages: readonly Stage[], context: GatewayRequest): Promise<Response> {
  let ran = 0;
  let response: Response | undefined;
  for (const stage of stages) {
    ran++;
    // Most stages answer synchronously: awaiting only real promises saves a turn of the microtask
    // queue per stage on every request.
    const handled = stage.handle(context);
    response = handled instanceof Promise ? await handled : handled;
    if (response) break;
  }
  // The last stage (forward) always answers; a pipeline without one is a programming error.
  if (!response) throw new Error(`no stage answered ${context.request.method} ${context.url.pathname}`);
  for (let index = ran - 1; index >= 0; index--) stages[index]?.finish?.(context, response);
  return response;
}

/** A catalogue error rendered as the one error shape, with Retry-After when the code has one. */
export function errorResponse(error: FastifyError, requestId: string, retryAfterSeconds?: number): Response {
  const { body, retryAfter } = renderError(error, requestId);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  const wait = retryAfterSeconds ?? retryAfter;
  if (wait !== undefined) headers['retry-after'] = String(wait);
  return new Response(JSON.stringify(body), { status: body.statusCode, headers });
}
