// The client worker: client records, each visible only to its owner (admins may read any).
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { buildWorkerApp, type WorkerAppOptions } from '../../shared/http/build-worker-app.ts';
import { createAdminCheck, createAdminGuard } from '../../shared/http/require-admin.ts';
import { createIdempotentWrites } from '../../shared/repositories/idempotent-writes.ts';
import { createUserRepository } from '../../shared/repositories/user-repository.ts';
import { createCachedClientReads } from './cached-client-reads.ts';
import { type ClientRepository, createClientRepository } from './client-repository.ts';
import { clientByIdRoutes } from './routes/client-by-id.ts';
import { createClientRoute } from './routes/create-client.ts';
import { listClientsRoute } from './routes/list-clients.ts';
import { clientSchema } from './routes/schemas.ts';

export interface ClientAppOptions extends WorkerAppOptions {
  /**
   * For the bench only (tools/bench/peers/plain-pg-client-worker.ts): the client list read through
   * something other than Prisma, on the pg pool Prisma itself uses (same address, same size), so the
   * two can be compared through an otherwise identical worker.
   */
  listClientsForComparison?: (pool: pg.Pool) => Pick<ClientRepository, 'listForOwner'>;
}

export async function buildApp({ listClientsForComparison, ...options }: ClientAppOptions): Promise<FastifyInstance> {
  const app = await buildWorkerApp('client', options);
  app.addSchema(clientSchema);
  const onMarksError = (error: unknown) => app.log.warn({ err: error }, 'page marks not built: deep pages use OFFSET');
  const clients = {
    ...createClientRepository(app.db.prisma, {
      onMarksError,
      // PostgreSQL ends a too-long build before the pool's own query timeout would (client-repository.ts).
      marksStatementTimeoutMs: Math.floor(options.config.DB_QUERY_TIMEOUT * 800),
    }),
    ...listClientsForComparison?.(app.db.pool),
  };
  const reads = createCachedClientReads(app.cache, clients);
  const idempotentWrites = createIdempotentWrites(app.db.prisma);
  const users = createUserRepository(app.db.prisma);
  const requireAdmin = createAdminGuard(users);
  await app.register(async (authenticated) => {
    authenticated.addHook('onRequest', authenticated.authenticate);
    listClientsRoute(authenticated, { reads, requireAdmin });
    createClientRoute(authenticated, { clients, reads, idempotentWrites });
    clientByIdRoutes(authenticated, { clients, reads, isAdmin: createAdminCheck(users) });
  });
  return app;
}
