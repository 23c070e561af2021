// GET and PATCH /api/v1/users/me: the caller's own profile. A password change needs the current
// password and ends every other session of the user, their access tokens included; the session that
// made the change continues (it just proved the password).
import type { FastifyInstance } from 'fastify';
import { AuthPasswordIncorrect, ResourceNotFound } from '../../../shared/http/errors.ts';
import { hashPassword, verifyPassword } from '../../../shared/passwords.ts';
import { markCacheStatus, wantsFreshRead } from '../../../shared/plugins/cache.ts';
import type { CachedSessionStanding } from '../../../shared/repositories/cached-session-standing.ts';
import type { CachedUserReads } from '../../../shared/repositories/cached-user-reads.ts';
import type { SessionRepository } from '../../../shared/repositories/session-repository.ts';
import type { UserRepository } from '../../../shared/repositories/user-repository.ts';

interface ProfileUpdate {
  name?: string;
  password?: string;
  currentPassword?: string;
}

const profileResponses = {
  200: { $ref: 'PublicUser#' },
  400: { $ref: 'ErrorBody#' },
  401: { $ref: 'ErrorBody#' },
  404: { $ref: 'ErrorBody#' },
} as const;

export function ownProfileRoutes(
  app: FastifyInstance,
  deps: { users: UserRepository; sessions: SessionRepository; reads: CachedUserReads; standing: CachedSessionStanding },
) {
  app.get(
    '/api/v1/users/me',
    {
      schema: {
        summary: 'Your own profile',
        operationId: 'getOwnProfile',
        security: [{ bearerAuth: [] }],
        response: profileResponses,
      },
    },
    async (request, reply) => {
      const { value: user, status } = await deps.reads.profile(request.user.sub, wantsFreshRead(request));
      if (!user) throw new ResourceNotFound('User');
      markCacheStatus(reply, status);
      return user;
    },
  );

  app.patch<{ Body: ProfileUpdate }>(
    '/api/v1/users/me',
    {
      schema: {
        summary: 'Change your name, or your password (with the current one; other sessions end)',
        operationId: 'updateOwnProfile',
        security: [{ bearerAuth: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            password: { type: 'string', minLength: 8, maxLength: 128 },
            currentPassword: { type: 'string', minLength: 1, maxLength: 128 },
          },
          // A new password needs the current one. Written as anyOf, not JSON Schema's `dependencies`,
          // which OpenAPI 3.0 schemas do not have (the document must describe what is validated).
          anyOf: [
            { not: { properties: { password: { type: 'string' } }, required: ['password'] } },
            { properties: { currentPassword: { type: 'string' } }, required: ['currentPassword'] },
          ],
        },
        response: profileResponses,
      },
    },
    async (request) => {
      const { name, password, currentPassword } = request.body;
      const { sub, sid } = request.user;
      if (password !== undefined) {
        const current = await deps.users.findWithPasswordHash(sub);
        if (!current) throw new ResourceNotFound('User');
        if (!(await verifyPassword(currentPassword ?? '', current.passwordHash))) throw new AuthPasswordIncorrect();
        // One transaction with the revocation of the other sessions: never a new password while a
        // session the old one opened (perhaps an attacker's) lives on.
        if (!(await deps.sessions.changePassword(sub, await hashPassword(password), sid))) {
          throw new ResourceNotFound('User');
        }
        await deps.standing.forgetUser(sub);
      }
      const updated =
        name !== undefined ? await deps.users.update(sub, { name: name.trim() }) : await deps.users.findById(sub);
      if (!updated) throw new ResourceNotFound('User');
      await deps.reads.forgetUser(sub);
      return updated;
    },
  );
}
