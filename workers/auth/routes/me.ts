import type { FastifyInstance } from 'fastify';
import { ResourceNotFound } from '../../../shared/http/errors.ts';
import type { UserRepository } from '../../../shared/repositories/user-repository.ts';

/** Registered inside the authenticated scope. */
export function meRoute(app: FastifyInstance, deps: { users: UserRepository }) {
  app.get(
    '/api/v1/auth/me',
    {
      schema: {
        summary: 'The current user',
        security: [{ bearerAuth: [] }],
        response: { 200: { $ref: 'PublicUser#' }, 401: { $ref: 'ErrorBody#' }, 404: { $ref: 'ErrorBody#' } },
      },
    },
    async (request) => {
      const user = await deps.users.findById(request.user.sub);
      if (!user) throw new ResourceNotFound('User');
      return user;
    },
  );
}
