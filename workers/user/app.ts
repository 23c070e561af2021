// The user worker: your own profile, and admin user management.
import type { FastifyInstance } from 'fastify';
import { buildWorkerApp, type WorkerAppOptions } from '../../shared/http/build-worker-app.ts';
import { createAdminGuard } from '../../shared/http/require-admin.ts';
import { createCachedUserReads } from '../../shared/repositories/cached-user-reads.ts';
import { createSessionRepository } from '../../shared/repositories/session-repository.ts';
import { createUserRepository } from '../../shared/repositories/user-repository.ts';
import { adminUserRoutes } from './routes/admin-users.ts';
import { ownProfileRoutes } from './routes/own-profile.ts';

export async function buildApp(options: WorkerAppOptions): Promise<FastifyInstance> {
  const app = await buildWorkerApp('user', options);
  const users = createUserRepository(app.db.prisma);
  const sessions = createSessionRepository(app.db.prisma);
  const reads = createCachedUserReads(app.cache, users, { writesUsers: true });
  const standing = app.sessionStanding;
  await app.register(async (authenticated) => {
    authenticated.addHook('onRequest', authenticated.authenticate);
    ownProfileRoutes(authenticated, { users, sessions, reads, standing });
    await authenticated.register(async (admin) => {
      admin.addHook('onRequest', createAdminGuard(users));
      adminUserRoutes(admin, { users, sessions, reads, standing });
    });
  });
  return app;
}
