// GET, PATCH and DELETE /api/v1/clients/:id. Object-level authorization: another user's client is a
// 404 (its existence is not revealed) and is never changed. Admins may read any client, not change it.
import type { FastifyInstance } from 'fastify';
import { ResourceNotFound } from '../../../shared/http/errors.ts';
import type { AdminCheck } from '../../../shared/http/require-admin.ts';
import { markCacheStatus, wantsFreshRead } from '../../../shared/plugins/cache.ts';
import { uuidParamsSchema } from '../../../shared/schemas/user.ts';
import type { CachedClientReads } from '../cached-client-reads.ts';
import type { ClientRepository, ClientWritableFields } from '../client-repository.ts';
import { clientErrorResponses, writableClientProperties } from './schemas.ts';

type ById = { Params: { id: string } };

export function clientByIdRoutes(
  app: FastifyInstance,
  deps: { clients: ClientRepository; reads: CachedClientReads; isAdmin: AdminCheck },
) {
  app.get<ById>(
    '/api/v1/clients/:id',
    {
      schema: {
        summary: 'One of your clients',
        operationId: 'getClient',
        security: [{ bearerAuth: [] }],
        params: uuidParamsSchema,
        response: { 200: { $ref: 'Client#' }, ...clientErrorResponses },
      },
    },
    async (request, reply) => {
      const { value: client, status } = await deps.reads.byId(request.params.id, wantsFreshRead(request));
      // Ownership is checked on every answer, cached or not: another user's client is a 404. The
      // admin exception goes by the role in the database, so a demoted admin loses it at once.
      if (!client || (client.ownerId !== request.user.sub && !(await deps.isAdmin(request)))) {
        throw new ResourceNotFound('Client');
      }
      markCacheStatus(reply, status);
      return client;
    },
  );

  app.patch<ById & { Body: Partial<ClientWritableFields> }>(
    '/api/v1/clients/:id',
    {
      schema: {
        summary: 'Change one of your clients',
        operationId: 'updateClient',
        security: [{ bearerAuth: [] }],
        params: uuidParamsSchema,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: writableClientProperties },
        response: { 200: { $ref: 'Client#' }, ...clientErrorResponses },
      },
    },
    async (request) => {
      const updated = await deps.clients.updateForOwner(request.params.id, request.user.sub, request.body);
      if (!updated) throw new ResourceNotFound('Client');
      await deps.reads.forgetClient(request.user.sub, request.params.id);
      return updated;
    },
  );

  app.delete<ById>(
    '/api/v1/clients/:id',
    {
      schema: {
        summary: 'Delete one of your clients',
        operationId: 'deleteClient',
        security: [{ bearerAuth: [] }],
        params: uuidParamsSchema,
        response: { 204: { type: 'null' }, ...clientErrorResponses },
      },
    },
    async (request, reply) => {
      const deleted = await deps.clients.deleteForOwner(request.params.id, request.user.sub);
      if (!deleted) throw new ResourceNotFound('Client');
      await deps.reads.forgetClient(request.user.sub, request.params.id);
      return reply.code(204).send();
    },
  );
}
