// What every server.ts does: load configuration (failing fast, naming the bad key), build the app,
// listen, and on SIGTERM/SIGINT stop accepting, finish in-flight requests, close pools, exit 0.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import type { ServiceName } from '../config-schema.ts';
import { ConfigError, type LoadedConfig, loadServiceConfig } from '../env.ts';
import { portKey, serviceSetting } from '../services.ts';

/** The longest in-flight requests may take to finish after the port closes (pod grace periods count on it). */
export const SHUTDOWN_GRACE_MS = 10_000;

/** What `listen` opened: closing it stops accepting and waits for in-flight requests. */
export interface Listening {
  close(): Promise<void>;
}

const listenWithFastify = async (app: FastifyInstance, loaded: LoadedConfig, port: number): Promise<Listening> => {
  await app.listen({ host: loaded.config.HOST, port });
  return { close: () => app.close() };
};

/** Workers are Fastify apps listening themselves; the gateway passes its own `listen`. */
export async function runService<App extends { log: FastifyBaseLogger } = FastifyInstance>(
  service: ServiceName,
  build: (loaded: LoadedConfig) => Promise<App> | App,
  listen: (app: App, loaded: LoadedConfig, port: number) => Promise<Listening> = listenWithFastify as never,
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
  let app: App;
  let listening: Listening;
  try {
    app = await build(loaded);
    for (const warning of loaded.overrideWarnings) app.log.warn(`Local override: ${warning}`);
    listening = await listen(app, loaded, serviceSetting<number>(loaded.config, portKey(service)) as number);
  } catch (error) {
    pino().fatal({ err: error, service }, `${service} failed to start: ${(error as Error).message}`);
    process.exit(1);
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    // First fail readiness and keep serving for SHUTDOWN_DELAY_SECONDS, so the gateway (or a
    // Kubernetes Service) has stopped sending new requests before the port closes; then finish
    // what is in flight. Kubernetes users may get the same from a preStop sleep instead.
    // SIGINT (Ctrl-C, or `bun run dev` stopping everything) has nobody to drain for: no delay.
    const delayMs = signal === 'SIGTERM' ? loaded.config.SHUTDOWN_DELAY_SECONDS * 1000 : 0;
    app.log.info({ signal, delayMs }, 'shutting down: not ready now, then finishing in-flight requests');
    (app as { draining?: boolean }).draining = true;
    const forceExit = setTimeout(() => {
      app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, delayMs + SHUTDOWN_GRACE_MS);
    forceExit.unref();
    if (delayMs > 0) await Bun.sleep(delayMs);
    await listening.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
