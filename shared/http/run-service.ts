// What every server.ts does: load configuration (failing fast, naming the bad key), build the app,
// listen, and on SIGTERM/SIGINT stop accepting, finish in-flight requests, close pools, exit 0.
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { ServiceName } from '../config-schema.ts';
import { ConfigError, type LoadedConfig, loadServiceConfig } from '../env.ts';

const SHUTDOWN_GRACE_MS = 10_000;

/** What `listen` opened: closing it stops accepting and waits for in-flight requests. */
export interface Listening {
  close(): Promise<void>;
}

const listenWithFastify = async (app: FastifyInstance, loaded: LoadedConfig, port: number): Promise<Listening> => {
  await app.listen({ host: loaded.config.HOST, port });
  return { close: () => app.close() };
};

export async function runService(
  service: ServiceName,
  port: (loaded: LoadedConfig) => number,
  build: (loaded: LoadedConfig) => Promise<FastifyInstance> | FastifyInstance,
  listen: (app: FastifyInstance, loaded: LoadedConfig, port: number) => Promise<Listening> = listenWithFastify,
): Promise<void> {
  let loaded: LoadedConfig;
  try {
    loaded = loadServiceConfig(service);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`[${service}] ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  let app: FastifyInstance;
  let listening: Listening;
  try {
    app = await build(loaded);
    for (const warning of loaded.overrideWarnings) app.log.warn(`Local override: ${warning}`);
    listening = await listen(app, loaded, port(loaded));
  } catch (error) {
    pino().fatal({ err: error, service }, `${service} failed to start: ${(error as Error).message}`);
    process.exit(1);
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const forceExit = setTimeout(() => {
      app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    forceExit.unref();
    await listening.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
