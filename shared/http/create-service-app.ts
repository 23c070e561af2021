// The Fastify instance every service starts from: request ids, the one error shape, strict schemas.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import type { ServiceName } from '../config-schema.ts';
import { registerOpenApi } from '../plugins/openapi.ts';
import { registerOverloadProtection } from '../plugins/overload.ts';
import { BODY_LIMIT_BYTES, drainOversizedBodies } from './body-limit.ts';
import { errorBodySchema, installErrorHandling } from './error-handler.ts';
import { ServiceClosing, ValidationFailed } from './errors.ts';
import { ENCODED_PATH_MESSAGE, hasEncodedCharacters } from './plain-paths.ts';
import { ACCEPTABLE_REQUEST_ID } from './request-id.ts';
import { refuseNulCharacters } from './strict-input.ts';

export interface ServiceAppOptions {
  service: ServiceName;
  /** A pino options object, `false` to silence, or an existing logger (tests capture lines this way). */
  logger?: FastifyServerOptions['logger'];
  loggerInstance?: FastifyServerOptions['loggerInstance'];
  /**
   * How many proxies in front are trusted for the client address (X-Forwarded-For). Workers sit
   * behind exactly one, the gateway, which appends the address it saw; 0 for a public gateway.
   */
  trustProxyHops?: number;
  /** Event-loop delay above which requests are refused with 503 (0 = off). */
  overloadEventLoopDelayMs?: number;
}

/**
 * The service logger: pino JSON, or pino-pretty for people. Pretty output is formatted in-process
 * and synchronously: with pino's worker-thread transport, app.close() never resolved under Bun, so
 * SIGTERM could not finish a graceful shutdown.
 */
export function createServiceLogger(level: string, pretty: boolean) {
  if (!pretty) return pino({ level });
  return pino(
    { level },
    pinoPretty({ sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', colorize: process.stdout.isTTY }),
  );
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set on SIGTERM (run-service.ts): readiness fails while the app keeps serving what arrives. */
    draining: boolean;
  }
}

export async function createServiceApp(options: ServiceAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: options.logger ?? false }),
    trustProxy: (_address: string, hop: number) => hop < (options.trustProxyHops ?? 0),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // Nothing may hang forever: a slow or stuck client is cut off.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 72_000,
    return503OnClosing: false, // answered in our error shape below
    bodyLimit: BODY_LIMIT_BYTES,
    // Unknown properties are an error (mass assignment is refused, not silently stripped).
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: 'array', useDefaults: true } },
  }) as unknown as FastifyInstance;

  // Headers must arrive within 10 s (slowloris); the whole request within requestTimeout above.
  app.server.headersTimeout = 10_000;
  app.decorate('draining', false);
  app.addSchema(errorBodySchema);
  await registerOverloadProtection(app, options.overloadEventLoopDelayMs ?? 0);
  // The gateway serves a merged document of its own (gateway/openapi-document.ts).
  await registerOpenApi(app, options.service, options.service !== 'gateway');
  installErrorHandling(app);
  // Routes take JSON only. Fastify also parses text/plain by default, which turned such bodies into a
  // string and then a 400 from the schema; without that parser they are the 415 the README promises.
  app.removeContentTypeParser('text/plain');
  refuseNulCharacters(app);
  drainOversizedBodies(app);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Once closing, new requests get 503 SERVICE_CLOSING in our shape (instead of Fastify's own
  // return503OnClosing body), and answers already in flight say `Connection: close`, so keep-alive
  // clients let go of their sockets and close() can finish. (Node's http server does the latter
  // itself; Bun's does not, and close() then waited for the keep-alive timeout.)
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new ServiceClosing();
  });
  // The gateway's rule, enforced again here (a worker may be reached without the gateway).
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (path.startsWith('/api/') && hasEncodedCharacters(path)) throw new ValidationFailed(ENCODED_PATH_MESSAGE);
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness of this service',
        // Operational, like readiness and metrics: not part of the API document consumers build on.
        hide: true,
        response: {
          200: {
            type: 'object',
            required: ['status', 'service'],
            properties: { status: { type: 'string' }, service: { type: 'string' } },
          },
        },
      },
    },
    async () => ({ status: 'ok', service: options.service }),
  );
  return app;
}
