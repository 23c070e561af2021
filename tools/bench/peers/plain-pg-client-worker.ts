// Bench-only: the client worker with its client list on plain `pg` (tools/bench/plain-pg-client-list.ts,
// the very statement the repository sends), on the pool Prisma uses in that worker. Everything else is
// the real worker's: buildApp, configuration, token and session check, validation, routes, shutdown.
// Scenario 6 puts the gateway in front of it and of the real worker (list-query-cost.ts).
// Started like workers/client/server.ts, and listens on CLIENT_PORT.
import { createServiceLogger } from '../../../shared/http/create-service-app.ts';
import { runService } from '../../../shared/http/run-service.ts';
import { resolveJwtKeys } from '../../../shared/jwt-keys.ts';
import { buildApp } from '../../../workers/client/app.ts';
import { createPlainPgClientList } from '../plain-pg-client-list.ts';

await runService('client', ({ config }) =>
  buildApp({
    config,
    keys: resolveJwtKeys(config, { needPrivateKey: false }),
    loggerInstance: createServiceLogger(config.LOG_LEVEL, config.LOG_PRETTY),
    listClientsForComparison: createPlainPgClientList,
  }),
);
