// GET /api/v1/clients: the incident's failing endpoint. The owner's clients, newest first by default.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CLIENT_LIST_DEFAULT_SORT, CLIENT_SORTS, CLIENT_STATUSES } from '../../../shared/client-list-query.ts';
import { markCacheStatus, wantsFreshRead } from '../../../shared/plugins/cache.ts';
import { idSchema } from '../../../shared/schemas/id.ts';
import { pageMeta, pageMetaSchema, paginationProperties, searchProperty } from '../../../shared/schemas/pagination.ts';
import type { CachedClientReads } from '../cached-client-reads.ts';
import type { ClientListQuery } from '../client-repository.ts';

type ListQuerystring = Omit<ClientListQuery, 'ownerId'> & { ownerId?: string };

export function listClientsRoute(
  app: FastifyInstance,
  deps: { reads: CachedClientReads; requireAdmin: (request: FastifyRequest) => Promise<void> },
) {
  app.get<{ Querystring: ListQuerystring }>(
    '/api/v1/clients',
    {
      schema: {
        summary: "List the caller's clients",
        operationId: 'listClients',
        security: [{ bearerAuth: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...paginationProperties,
            search: searchProperty,
            status: { type: 'string', enum: [...CLIENT_STATUSES] },
            sort: { type: 'string', enum: [...CLIENT_SORTS], default: CLIENT_LIST_DEFAULT_SORT },
            ownerId: { ...idSchema, description: "Admins only: another user's clients" },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['data', 'meta'],
            properties: {
              data: { type: 'array', items: { $ref: 'Client#' } },
              meta: pageMetaSchema,
            },
          },
          400: { $ref: 'ErrorBody#' },
          401: { $ref: 'ErrorBody#' },
          403: { $ref: 'ErrorBody#' },
          503: { $ref: 'ErrorBody#' },
        },
      },
    },
    async (request, reply) => {
      const { ownerId: requestedOwner, ...rest } = request.query;
      if (requestedOwner && requestedOwner !== request.user.sub) await deps.requireAdmin(request);
      const query = { ...rest, search: rest.search?.trim() || undefined };
      const { value, status } = await deps.reads.list(
        { ...query, ownerId: requestedOwner ?? request.user.sub },
        wantsFreshRead(request),
      );
      const { rows, total } = value;
      markCacheStatus(reply, status);
      return { data: rows, meta: pageMeta(query.page, query.limit, total) };
    },
  );
}
