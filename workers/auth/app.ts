// The auth worker: registration, login and the current user. The only service that signs tokens.
import type { FastifyInstance } from 'fastify';
import { buildWorkerApp, type WorkerAppOptions } from '../../shared/http/build-worker-app.ts';
import { createUserRepository } from '../../shared/repositories/user-repository.ts';
import { loginRoute } from './routes/login.ts';
import { meRoute } from './routes/me.ts';
import { registerRoute } from './routes/register.ts';
import { createSessionRepository } from './session-repository.ts';
import { createTokenIssuer } from './token-issuer.ts';

export async function buildApp(options: WorkerAppOptions): Promise<FastifyInstance> {
  if (!options.keys.privateKey) throw new Error('the auth worker needs JWT private key to sign tokens');
  const app = await buildWorkerApp('auth', options);
  const users = createUserRepository(app.db.prisma);
  const tokens = createTokenIssuer(app, createSessionRepository(app.db.prisma), {
    accessSeconds: options.config.ACCESS_TOKEN_TTL,
    refreshSeconds: options.config.REFRESH_TOKEN_TTL,
  });
  registerRoute(app, { users, tokens });
  loginRoute(app, { users, tokens });
  await app.register(async (authenticated) => {
    authenticated.addHook('onRequest', authenticated.authenticate);
    meRoute(authenticated, { users });
  });
  return app;
}
