// /docs and everything under it, relayed to the API reference's own thread (docs-thread.ts). Its 404s
// and failures are answered in the one error shape, like every other path of the operations app; the
// error handler logs the 5xx ones with what the thread said as their cause.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { RouteNotFound, UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable } from '../shared/http/errors.ts';
import { type DocsThread, DocsThreadFailure, docsThread } from './docs-thread.ts';
import { NOT_PASSED_ON } from './pipeline/operations.ts';

/** How long the thread stays up after its last request. */
const DOCS_IDLE_MS = 5 * 60_000;
/** Its first answer loads the reference's bundle: seconds on a slow machine, never minutes. */
const DOCS_TIMEOUT_MS = 30_000;

export function registerDocsRoutes(
  app: FastifyInstance,
  routeOptions: RouteShorthandOptions,
  thread: DocsThread = docsThread({ idleMs: DOCS_IDLE_MS, timeoutMs: DOCS_TIMEOUT_MS }),
): void {
  app.addHook('onClose', async () => thread.stop());
  const relay = async (request: FastifyRequest, reply: FastifyReply) => {
    const answer = await thread
      .answer({ method: request.method as 'GET' | 'HEAD', url: request.url, headers: request.headers })
      .catch((cause: unknown) => {
        const timedOut = cause instanceof DocsThreadFailure && cause.timedOut;
        throw timedOut ? new UpstreamTimeout('docs', { cause }) : new UpstreamUnavailable('docs', { cause });
      });
    if (answer.statusCode === 404) throw new RouteNotFound(request.method, request.url.split('?')[0]);
    if (answer.statusCode >= 500) {
      throw new UpstreamBadResponse('docs', { cause: new Error(`the reference answered ${answer.statusCode}`) });
    }
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !NOT_PASSED_ON.has(name)) reply.header(name, value);
    }
    const { body } = answer;
    reply.code(answer.statusCode);
    // The transferred bytes as they are (no copy of the 5 MB bundle); a redirect has none.
    return body.byteLength ? reply.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength)) : reply.send();
  };
  // The reference's assets are not worth a log line each.
  app.get('/docs', { ...routeOptions, logLevel: 'warn' }, relay);
  app.get('/docs/*', { ...routeOptions, logLevel: 'warn' }, relay);
}
