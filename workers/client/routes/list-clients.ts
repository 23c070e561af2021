// GET /api/v1/clients: the incident's failing endpoint. The owner's clients, newest first by default,
// by page or, past any depth at the same cost, by the `after` cursor of the page before.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  CLIENT_LIST_DEFAULT_SORT,
  CLIENT_SORTS,
  CLIENT_STATUSES,
  clientListMeta,
  clientListMetaSchema,
} from '../../../shared/client-list-query.ts';
import { ValidationFailed } from '../../../shared/http/errors.ts';
import { markCacheStatus, wantsFreshRead } from '../../../shared/plugins/cache.ts';
import { idSchema } from '../../../shared/schemas/id.ts';
import { paginationProperties, searchProperty } from '../../../shared/schemas/pagination.ts';
import type { CachedClientReads } from '../cached-client-reads.ts';
import type { ClientListQuery } from '../client-repository.ts';
import { decodeListCursor } from '../list-cursor.ts';

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
            after: {
              type: 'string',
              minLength: 1,
              maxLength: 2048,
              description:
                'Keyset paging: `meta.next` of the previous page, with the same sort and filters. Costs the same ' +
                'however deep the page; `page` must then be left out (or 1)',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['data', 'meta'],
            properties: {
              data: { type: 'array', items: { $ref: 'Client#' } },
              meta: clientListMetaSchema,
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
      if (query.after) {
        if (query.page !== 1) throw new ValidationFailed('Send either page or after, not both');
        decodeListCursor(query.after, query.sort); // a bad cursor is a 400 before any cache or database work
      }
      const { value, status } = await deps.reads.list(
        { ...query, ownerId: requestedOwner ?? request.user.sub },
        wantsFreshRead(request),
      );
      markCacheStatus(reply, status);
      return { data: value.rows, meta: clientListMeta(query, value) };
    },
  );
}
