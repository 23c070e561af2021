import type { FastifyInstance } from 'fastify';
import { ResourceNotFound } from '../../../shared/http/errors.ts';
import type { UserRepository } from '../../../shared/repositories/user-repository.ts';

export function ownProfileRoute(app: FastifyInstance, deps: { users: UserRepository }) {
  app.get(
    '/api/v1/users/me',
    {
      schema: {
        summary: 'Your own profile',
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
