// Admin checks. The role is read from the database, not trusted from the token alone, so a demoted
// or disabled admin loses access at once rather than when their access token expires.
import type { FastifyRequest } from 'fastify';
import type { UserRepository } from '../repositories/user-repository.ts';
import { Forbidden } from './errors.ts';

export type AdminCheck = (request: FastifyRequest) => Promise<boolean>;

/** For routes where admins merely see more (a non-admin gets the ordinary answer, not a 403). */
export function createAdminCheck(users: UserRepository): AdminCheck {
  return async function isAdmin(request) {
    // No ADMIN claim, no database read: a promotion takes effect with the next token.
    if (request.user.role !== 'ADMIN') return false;
    const current = await users.findById(request.user.sub);
    return current?.role === 'ADMIN' && current.status === 'ACTIVE';
  };
}

/** For admin-only scopes and requests: 403 unless the caller is an active admin now. */
export function createAdminGuard(users: UserRepository) {
  const isAdmin = createAdminCheck(users);
  return async function requireAdmin(request: FastifyRequest): Promise<void> {
    if (!(await isAdmin(request))) throw new Forbidden();
  };
}
