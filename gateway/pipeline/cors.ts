// Stage: CORS for browser apps on other origins (an Astro front end, a dashboard), from the
// CORS_ORIGINS allow-list; unset allows none. It sits before the rate limit and every other stage that
// can answer, so an allowed origin can read every answer, 429s and 503s included, and preflights are
// answered here: they never reach a worker or count against anything behind this stage.
//
// Tokens travel in the Authorization header, never in cookies, so credentials are not allowed
// (no Access-Control-Allow-Credentials): a cross-origin page cannot ride on a user's ambient session.
// Hand-written because the pipeline is not Fastify (@fastify/cors cannot run here) and the rules are
// a dozen lines of the Fetch standard.
import type { Stage } from './pipeline.ts';

/** What a browser app may send: the methods and request headers the API uses. */
export const CORS_ALLOWED_METHODS = 'GET, HEAD, POST, PATCH, DELETE';
export const CORS_ALLOWED_HEADERS = 'authorization, content-type, idempotency-key, x-request-id, cache-control';
/** Response headers a browser app may read beyond the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = 'x-request-id, retry-after, x-cache, idempotent-replayed';
/** How long a browser may reuse a preflight answer (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function parseOrigins(list: string | undefined): Set<string> {
  return new Set(
    (list ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
  );
}

export function corsStage(allowedOrigins: ReadonlySet<string>): Stage {
  return {
    name: 'cors',
    // Every answer varies by Origin; an answer built on this has it (a page's own Vary is added to it).
    standingHeaders: { vary: 'Origin' },
    handle(context) {
      const { request } = context;
      const origin = request.headers.get('origin');
      const isPreflight =
        request.method === 'OPTIONS' && origin && request.headers.has('access-control-request-method');
      if (!isPreflight) return undefined;
      // Answered for any origin; only an allowed one gets the headers (finish) that let the browser go on.
      const headers = new Headers({ vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' });
      if (allowedOrigins.has(origin)) {
        headers.set('access-control-allow-methods', CORS_ALLOWED_METHODS);
        headers.set('access-control-allow-headers', CORS_ALLOWED_HEADERS);
        headers.set('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
      }
      return new Response(null, { status: 204, headers });
    },
    finish(context, response, prepared) {
      // Whether an answer carries Allow-Origin depends on Origin, so every answer varies by it
      // (a shared cache must not hand one origin's answer to another). A prepared answer has it already.
      if (!prepared && !/\borigin\b/i.test(response.headers.get('vary') ?? ''))
        response.headers.append('vary', 'Origin');
      const origin = context.request.headers.get('origin');
      if (!origin || !allowedOrigins.has(origin)) return;
      response.headers.set('access-control-allow-origin', origin);
      response.headers.set('access-control-expose-headers', CORS_EXPOSED_HEADERS);
    },
  };
}
