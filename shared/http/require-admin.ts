// Admin-only scopes. The role is read from the database, not trusted from the token alone, so a
// demoted or disabled admin loses access at once rather than when their access token expires.
import type { FastifyRequest } from 'fastify';
import type { UserRepository } from '../repositories/user-repository.ts';
import { Forbidden } from './errors.ts';

export function createAdminGuard(users: UserRepository) {
  return async function requireAdmin(request: FastifyRequest): Promise<void> {
    if (request.user.role !== 'ADMIN') throw new Forbidden();
    const current = await users.findById(request.user.sub);
    if (current?.role !== 'ADMIN' || current.status !== 'ACTIVE') throw new Forbidden();
  };
}
