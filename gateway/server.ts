import { createServiceLogger } from '../shared/http/create-service-app.ts';
import { runService } from '../shared/http/run-service.ts';
import { resolveJwtKeys } from '../shared/jwt-keys.ts';
import { buildApp } from './app.ts';
import { listenGateway } from './listen.ts';

await runService(
  'gateway',
  ({ config }) =>
    buildApp({
      config,
      keys: resolveJwtKeys(config, { needPrivateKey: false }),
      loggerInstance: createServiceLogger(config.LOG_LEVEL, config.LOG_PRETTY),
    }),
  (app, { config }, port) =>
    listenGateway(app, { host: config.HOST, port, upstreamTimeoutSeconds: config.UPSTREAM_TIMEOUT }),
);
