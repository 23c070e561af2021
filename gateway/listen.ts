// Opens the gateway's public port: the one way it starts, in server.ts and in tests alike.
import { randomUUID } from 'node:crypto';
import { DRAIN_LIMIT_BYTES } from '../shared/http/body-limit.ts';
import { InternalError } from '../shared/http/errors.ts';
import type { GatewayApp } from './app.ts';
import { errorResponse } from './pipeline/pipeline.ts';

export interface ListeningGateway {
  url: string;
  /** The operations listener's address, when the gateway has one (production; see operations-listener.ts). */
  operationsUrl?: string;
  /** Stops accepting, lets in-flight requests finish, then closes the app. */
  close(): Promise<void>;
}

/**
 * Bun.serve's own hard cap: past it, it closes the connection with a bare 413. Our limit is lower
 * (pipeline/body-limit.ts), which reads a body over it to its end before answering 413, so that a
 * client still writing can read the answer; this cap bounds how much it reads.
 */
const MAX_REQUEST_BODY_BYTES = DRAIN_LIMIT_BYTES;
/** Bun.serve closes a connection idle this long; the most it allows is 255 s. */
const MAX_IDLE_TIMEOUT_SECONDS = 255;

export async function listenGateway(
  app: GatewayApp,
  options: { host: string; port: number; upstreamTimeoutSeconds: number },
): Promise<ListeningGateway> {
  await app.start();
  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    maxRequestBodySize: MAX_REQUEST_BODY_BYTES,
    // Above the upstream timeout: a slow worker must end in our 504, never in Bun cutting the client
    // off with no answer at its default 10 s.
    idleTimeout: Math.min(MAX_IDLE_TIMEOUT_SECONDS, Math.ceil(options.upstreamTimeoutSeconds) + 5),
    fetch: (request, server) => app.handle(request, server),
    error(error) {
      app.log.error({ err: error }, 'gateway pipeline failed');
      return errorResponse(new InternalError(), randomUUID());
    },
  });
  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${server.port}`;
  app.log.info(`Gateway listening at ${url}`);
  let operationsUrl: string | undefined;
  if (app.operationsListener) {
    try {
      operationsUrl = await app.operations.listen(app.operationsListener);
    } catch (error) {
      await server.stop();
      throw error;
    }
    app.log.info(`Operations (readiness, metrics, status, docs) at ${operationsUrl}; not on the public port`);
  }
  return {
    url,
    operationsUrl,
    async close() {
      await server.stop();
      await app.close();
    },
  };
}
