import { createServiceLogger } from '../shared/http/create-service-app.ts';
import { runService } from '../shared/http/run-service.ts';
import { resolveJwtKeys } from '../shared/jwt-keys.ts';
import { buildApp } from './app.ts';
import { startGateway } from './front-door.ts';
import { upstreamsFrom } from './upstreams.ts';

await runService(
  'gateway',
  ({ config }) => config.GATEWAY_PORT,
  ({ config }) =>
    buildApp({
      config,
      keys: resolveJwtKeys(config, { needPrivateKey: false }),
      loggerInstance: createServiceLogger(config.LOG_LEVEL, config.LOG_PRETTY),
    }),
  // The public port is the front door (Bun.serve); the app listens on an internal port behind it.
  (app, { config }, port) =>
    startGateway({
      app,
      config,
      publicKey: resolveJwtKeys(config, { needPrivateKey: false }).publicKey,
      upstreams: upstreamsFrom(config),
      host: config.HOST,
      port,
      observe: app.observeProxied,
    }),
);
