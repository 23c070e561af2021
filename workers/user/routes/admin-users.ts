// Admin-only user management: list, read, change role or status. Disabling a user ends their sessions,
// their access tokens included.
import type { FastifyInstance } from 'fastify';
import { Forbidden, ResourceNotFound } from '../../../shared/http/errors.ts';
import { markCacheStatus, wantsFreshRead } from '../../../shared/plugins/cache.ts';
import type { CachedSessionStanding } from '../../../shared/repositories/cached-session-standing.ts';
import type { CachedUserReads } from '../../../shared/repositories/cached-user-reads.ts';
import type { SessionRepository } from '../../../shared/repositories/session-repository.ts';
import type { UserListQuery, UserRepository } from '../../../shared/repositories/user-repository.ts';
import { idParamsSchema } from '../../../shared/schemas/id.ts';
import { pageMeta, pageMetaSchema, paginationProperties, searchProperty } from '../../../shared/schemas/pagination.ts';

const adminErrors = {
  400: { $ref: 'ErrorBody#' },
  401: { $ref: 'ErrorBody#' },
  403: { $ref: 'ErrorBody#' },
  404: { $ref: 'ErrorBody#' },
} as const;

/** Registered inside the admin scope (authenticated + admin guard). */
export function adminUserRoutes(
  app: FastifyInstance,
  deps: { users: UserRepository; sessions: SessionRepository; reads: CachedUserReads; standing: CachedSessionStanding },
) {
  app.get<{ Querystring: UserListQuery }>(
    '/api/v1/users',
    {
      schema: {
        summary: 'List users (admin)',
        operationId: 'listUsers',
        security: [{ bearerAuth: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...paginationProperties,
            search: searchProperty,
            role: { type: 'string', enum: ['USER', 'ADMIN'] },
            status: { type: 'string', enum: ['ACTIVE', 'DISABLED'] },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['data', 'meta'],
            properties: { data: { type: 'array', items: { $ref: 'PublicUser#' } }, meta: pageMetaSchema },
          },
          ...adminErrors,
        },
      },
    },
    async (request) => {
      const query = { ...request.query, search: request.query.search?.trim() || undefined };
      const { rows, total } = await deps.users.list(query);
      return { data: rows, meta: pageMeta(query.page, query.limit, total) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/users/:id',
    {
      schema: {
        summary: 'One user (admin)',
        operationId: 'getUser',
        security: [{ bearerAuth: [] }],
        params: idParamsSchema,
        response: { 200: { $ref: 'PublicUser#' }, ...adminErrors },
      },
    },
    async (request, reply) => {
      const { value: user, status } = await deps.reads.profile(request.params.id, wantsFreshRead(request));
      if (!user) throw new ResourceNotFound('User');
      markCacheStatus(reply, status);
      return user;
    },
  );

  app.patch<{ Params: { id: string }; Body: { role?: 'USER' | 'ADMIN'; status?: 'ACTIVE' | 'DISABLED' } }>(
    '/api/v1/users/:id',
    {
      schema: {
        summary: "Change a user's role or status (admin); disabling ends their sessions",
        operationId: 'updateUser',
        security: [{ bearerAuth: [] }],
        params: idParamsSchema,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            role: { type: 'string', enum: ['USER', 'ADMIN'] },
            status: { type: 'string', enum: ['ACTIVE', 'DISABLED'] },
          },
        },
        response: { 200: { $ref: 'PublicUser#' }, ...adminErrors },
      },
    },
    async (request) => {
      // An admin cannot lock themselves out (demote or disable their own account). Comparing strings is
      // sound because idParamsSchema admits only the canonical spelling, the one tokens carry.
      if (request.params.id === request.user.sub) throw new Forbidden();
      const updated = await deps.users.update(request.params.id, request.body);
      if (!updated) throw new ResourceNotFound('User');
      await deps.reads.forgetUser(updated.id);
      try {
        if (request.body.status === 'DISABLED') await deps.sessions.revokeAllForUser(updated.id);
      } finally {
        // The status is committed either way, and the session check reads it: drop what it cached.
        await deps.standing.forgetUser(updated.id);
      }
      return updated;
    },
  );
}
