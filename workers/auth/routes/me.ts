import type { FastifyInstance } from 'fastify';
import { ResourceNotFound } from '../../../shared/http/errors.ts';
import { markCacheStatus, wantsFreshRead } from '../../../shared/plugins/cache.ts';
import type { CachedUserReads } from '../../../shared/repositories/cached-user-reads.ts';

/** Registered inside the authenticated scope. */
export function meRoute(app: FastifyInstance, deps: { reads: CachedUserReads }) {
  app.get(
    '/api/v1/auth/me',
    {
      schema: {
        summary: 'The current user',
        operationId: 'getCurrentUser',
        security: [{ bearerAuth: [] }],
        response: { 200: { $ref: 'PublicUser#' }, 401: { $ref: 'ErrorBody#' }, 404: { $ref: 'ErrorBody#' } },
      },
    },
    async (request, reply) => {
      const { value: user, status } = await deps.reads.profile(request.user.sub, wantsFreshRead(request));
      if (!user) throw new ResourceNotFound('User');
      markCacheStatus(reply, status);
      return user;
    },
  );
}
