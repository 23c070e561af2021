// Whether an access token's session may still be used, asked by every worker on every authenticated
// request (shared/plugins/access-token.ts) and by the gateway's edge cache. Every change that ends
// sessions (logout, password change, disabling a user, a refresh-token reuse) must call forgetUser()
// after it commits and before it answers.
//
// Cheap through the shared cache: one group per user, one field per session, so one invalidation ends
// all of a user's cached answers in every process (see shared/cache.ts: a fill that began before the
// invalidation is refused). The in-process cache cannot carry one service's invalidation to another,
// and sessions are ended by two services (auth: logout, reuse; user: password, status) and read by all,
// so there (and with the cache off) every check reads PostgreSQL: one indexed statement.
import type { Cache } from '../cache.ts';
import { cacheGroups } from '../cache.ts';
import type { SessionRepository } from './session-repository.ts';

export function createCachedSessionStanding(cache: Cache, sessions: Pick<SessionRepository, 'isLive'>) {
  // Not a cache read at all there, so the cache's hit and bypass counts keep describing the data reads.
  const shared = cache.kind === 'redis';
  return {
    /** Never holds a connection while waiting on the cache: readThrough asks the cache first. */
    async isLive(userId: string, sessionId: string): Promise<boolean> {
      if (!shared) return sessions.isLive(userId, sessionId);
      const { value } = await cache.readThrough(cacheGroups.sessionStanding(userId), sessionId, () =>
        sessions.isLive(userId, sessionId),
      );
      return value === true;
    },
    forgetUser(userId: string) {
      return cache.invalidate(cacheGroups.sessionStanding(userId));
    },
  };
}

export type CachedSessionStanding = ReturnType<typeof createCachedSessionStanding>;
