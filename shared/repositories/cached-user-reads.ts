// User profiles through the read cache. Every write to a user must call forgetUser() before answering.
//
// Two services read profiles (auth: /auth/me; user: /users/me, /users/:id) and only the user worker
// changes them. A shared cache (Redis) carries the user worker's invalidations to the auth worker; an
// in-process one cannot, so there only the service that writes profiles caches them.
import type { Cache } from '../cache.ts';
import { cacheGroups } from '../cache.ts';
import type { UserRepository } from './user-repository.ts';

export interface CachedUserReadsOptions {
  /** True in the service that changes users (and so invalidates them): the user worker. */
  writesUsers?: boolean;
}

export function createCachedUserReads(cache: Cache, users: UserRepository, options: CachedUserReadsOptions = {}) {
  // Another service's writes would never reach this process's in-process cache: read the database.
  const alwaysFresh = cache.kind === 'memory' && !options.writesUsers;
  return {
    profile(userId: string, fresh = false) {
      return cache.readThrough(cacheGroups.user(userId), 'profile', () => users.findById(userId), fresh || alwaysFresh);
    },
    forgetUser(userId: string) {
      return cache.invalidate(cacheGroups.user(userId));
    },
  };
}

export type CachedUserReads = ReturnType<typeof createCachedUserReads>;
