import type { FastifyInstance } from 'fastify';
import type { ClientRepository, ClientStatus } from '../client-repository.ts';
import { writableClientProperties } from './schemas.ts';

interface CreateClientBody {
  name: string;
  email?: string | null;
  phone?: string | null;
  company?: string | null;
  status?: ClientStatus;
  notes?: string | null;
}

export function createClientRoute(app: FastifyInstance, deps: { clients: ClientRepository }) {
  app.post<{ Body: CreateClientBody }>(
    '/api/v1/clients',
    {
      schema: {
        summary: 'Create a client owned by the caller',
        security: [{ bearerAuth: [] }],
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: writableClientProperties },
        response: { 201: { $ref: 'Client#' }, 400: { $ref: 'ErrorBody#' }, 401: { $ref: 'ErrorBody#' } },
      },
    },
    async (request, reply) => {
      const created = await deps.clients.create(request.user.sub, request.body);
      return reply.code(201).send(created);
    },
  );
}
