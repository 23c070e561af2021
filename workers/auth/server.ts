import { createServiceLogger } from '../../shared/http/create-service-app.ts';
import { runService } from '../../shared/http/run-service.ts';
import { resolveJwtKeys } from '../../shared/jwt-keys.ts';
import { buildApp } from './app.ts';

await runService('auth', ({ config }) =>
  buildApp({
    config,
    keys: resolveJwtKeys(config, { needPrivateKey: true }),
    loggerInstance: createServiceLogger(config.LOG_LEVEL, config.LOG_PRETTY),
  }),
);
