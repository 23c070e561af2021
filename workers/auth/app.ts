// The auth worker: registration, login, refresh rotation, logout and the current user.
// The only service that signs tokens.
import type { FastifyInstance } from 'fastify';
import { buildWorkerApp, type WorkerAppOptions } from '../../shared/http/build-worker-app.ts';
import { type AuthRouteLimits, rateLimitPlugin } from '../../shared/plugins/rate-limits.ts';
import { createCachedUserReads } from '../../shared/repositories/cached-user-reads.ts';
import { createSessionRepository } from '../../shared/repositories/session-repository.ts';
import { createUserRepository } from '../../shared/repositories/user-repository.ts';
import { LoginBackoff } from './login-backoff.ts';
import { loginRoute } from './routes/login.ts';
import { logoutRoute } from './routes/logout.ts';
import { meRoute } from './routes/me.ts';
import { refreshRoute } from './routes/refresh.ts';
import { registerRoute } from './routes/register.ts';
import { createTokenIssuer } from './token-issuer.ts';

export async function buildApp(options: WorkerAppOptions): Promise<FastifyInstance> {
  if (!options.keys.privateKey) throw new Error('the auth worker needs JWT private key to sign tokens');
  const app = await buildWorkerApp('auth', options);
  const users = createUserRepository(app.db.prisma);
  const sessions = createSessionRepository(app.db.prisma);
  const tokens = createTokenIssuer(
    app,
    { sessions, standing: app.sessionStanding },
    {
      accessSeconds: options.config.ACCESS_TOKEN_TTL,
      refreshSeconds: options.config.REFRESH_TOKEN_TTL,
    },
  );
  const { config } = options;
  const perAccount = { max: config.AUTH_ACCOUNT_RATE_LIMIT_MAX, windowSeconds: config.RATE_LIMIT_WINDOW };
  await app.register(rateLimitPlugin, perAccount);
  const limits: AuthRouteLimits = { perAccount: { max: perAccount.max, timeWindow: perAccount.windowSeconds * 1000 } };
  const backoff = new LoginBackoff({
    failuresBeforeDelay: config.AUTH_LOGIN_FAILURES_BEFORE_DELAY,
    maxDelaySeconds: config.AUTH_LOGIN_MAX_DELAY,
  });
  registerRoute(app, { users, tokens, limits });
  loginRoute(app, { users, tokens, backoff });
  refreshRoute(app, { tokens, limits });
  logoutRoute(app, { sessions, standing: app.sessionStanding });
  await app.register(async (authenticated) => {
    authenticated.addHook('onRequest', authenticated.authenticate);
    meRoute(authenticated, { reads: createCachedUserReads(app.cache, users) });
  });
  return app;
}
