// User profiles through the read cache. Every write to a user must call forgetUser() before answering.
import type { Cache } from '../cache.ts';
import { cacheGroups } from '../cache.ts';
import type { UserRepository } from './user-repository.ts';

export function createCachedUserReads(cache: Cache, users: UserRepository) {
  return {
    profile(userId: string, fresh = false) {
      return cache.readThrough(cacheGroups.user(userId), 'profile', () => users.findById(userId), fresh);
    },
    forgetUser(userId: string) {
      return cache.invalidate(cacheGroups.user(userId));
    },
  };
}

export type CachedUserReads = ReturnType<typeof createCachedUserReads>;
