import type { FastifyInstance } from 'fastify';
import type { CachedClientReads } from '../cached-client-reads.ts';
import type { ClientRepository, ClientWritableFields } from '../client-repository.ts';
import { clientErrorResponses, writableClientProperties } from './schemas.ts';

export function createClientRoute(app: FastifyInstance, deps: { clients: ClientRepository; reads: CachedClientReads }) {
  app.post<{ Body: ClientWritableFields }>(
    '/api/v1/clients',
    {
      schema: {
        summary: 'Create a client owned by the caller',
        security: [{ bearerAuth: [] }],
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: writableClientProperties },
        response: { 201: { $ref: 'Client#' }, ...clientErrorResponses },
      },
    },
    async (request, reply) => {
      const created = await deps.clients.create(request.user.sub, request.body);
      await deps.reads.forgetClient(request.user.sub);
      return reply.code(201).send(created);
    },
  );
}
