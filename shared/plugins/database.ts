// The pooled Prisma client as a Fastify plugin: opened once per process, logged in the incident
// report's words, closed when the app closes.
import fp from 'fastify-plugin';
import type { ServiceConfig, ServiceName } from '../config-schema.ts';
import { describePoolLine, openPooledDatabase, type PooledDatabase, resolveRuntimeDatabaseConfig } from '../db.ts';
import { SERVICES } from '../services.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: PooledDatabase;
  }
}

export interface DatabasePluginOptions {
  service: ServiceName;
  config: ServiceConfig;
}

export const databasePlugin = fp<DatabasePluginOptions>(
  async (app, { service, config }) => {
    const databaseConfig = resolveRuntimeDatabaseConfig(config, app.log);
    const database = openPooledDatabase(databaseConfig, app.log);
    app.log.info(
      { mode: databaseConfig.mode, modeReason: databaseConfig.modeReason, address: databaseConfig.maskedUrl },
      describePoolLine(SERVICES[service].logName, databaseConfig),
    );
    app.decorate('db', database);
    app.addHook('onClose', async () => database.close());
  },
  { name: 'poolwise-database' },
);
