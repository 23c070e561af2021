// GET /api/v1/clients: the incident's failing endpoint. The owner's clients, newest first by default.
import type { FastifyInstance } from 'fastify';
import { CLIENT_SORTS, type ClientListQuery, type ClientRepository } from '../client-repository.ts';

type ListQuerystring = Omit<ClientListQuery, 'ownerId'>;

export function listClientsRoute(app: FastifyInstance, deps: { clients: ClientRepository }) {
  app.get<{ Querystring: ListQuerystring }>(
    '/api/v1/clients',
    {
      schema: {
        summary: "List the caller's clients",
        security: [{ bearerAuth: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            page: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            search: { type: 'string', maxLength: 100 },
            status: { type: 'string', enum: ['ACTIVE', 'INACTIVE', 'LEAD'] },
            sort: { type: 'string', enum: [...CLIENT_SORTS], default: '-createdAt' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['data', 'meta'],
            properties: {
              data: { type: 'array', items: { $ref: 'Client#' } },
              meta: {
                type: 'object',
                required: ['page', 'limit', 'total', 'totalPages'],
                properties: {
                  page: { type: 'integer' },
                  limit: { type: 'integer' },
                  total: { type: 'integer' },
                  totalPages: { type: 'integer' },
                },
              },
            },
          },
          400: { $ref: 'ErrorBody#' },
          401: { $ref: 'ErrorBody#' },
          503: { $ref: 'ErrorBody#' },
        },
      },
    },
    async (request) => {
      const query = { ...request.query, search: request.query.search?.trim() || undefined };
      const { rows, total } = await deps.clients.listForOwner({ ...query, ownerId: request.user.sub });
      return {
        data: rows,
        meta: { page: query.page, limit: query.limit, total, totalPages: Math.ceil(total / query.limit) },
      };
    },
  );
}
