// The user worker: profiles (and, with the API issue, admin user management).
import type { FastifyInstance } from 'fastify';
import { buildWorkerApp, type WorkerAppOptions } from '../../shared/http/build-worker-app.ts';
import { createUserRepository } from '../../shared/repositories/user-repository.ts';
import { ownProfileRoute } from './routes/own-profile.ts';

export async function buildApp(options: WorkerAppOptions): Promise<FastifyInstance> {
  const app = await buildWorkerApp('user', options);
  const users = createUserRepository(app.db.prisma);
  await app.register(async (authenticated) => {
    authenticated.addHook('onRequest', authenticated.authenticate);
    ownProfileRoute(authenticated, { users });
  });
  return app;
}
