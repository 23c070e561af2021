// The client worker: client records, each visible only to its owner (admins may read any).
import type { FastifyInstance } from 'fastify';
import { buildWorkerApp, type WorkerAppOptions } from '../../shared/http/build-worker-app.ts';
import { createAdminCheck, createAdminGuard } from '../../shared/http/require-admin.ts';
import { createIdempotentWrites } from '../../shared/repositories/idempotent-writes.ts';
import { createUserRepository } from '../../shared/repositories/user-repository.ts';
import { createCachedClientReads } from './cached-client-reads.ts';
import { createClientRepository } from './client-repository.ts';
import { clientByIdRoutes } from './routes/client-by-id.ts';
import { createClientRoute } from './routes/create-client.ts';
import { listClientsRoute } from './routes/list-clients.ts';
import { clientSchema } from './routes/schemas.ts';

export async function buildApp(options: WorkerAppOptions): Promise<FastifyInstance> {
  const app = await buildWorkerApp('client', options);
  app.addSchema(clientSchema);
  const clients = createClientRepository(app.db.prisma);
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
