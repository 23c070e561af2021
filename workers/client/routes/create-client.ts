import type { FastifyInstance } from 'fastify';
import {
  fingerprintRequestBody,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  idempotencyKeyHeaderSchema,
  readIdempotencyKey,
} from '../../../shared/http/idempotency-key.ts';
import { IDEMPOTENCY_KEY_TTL_HOURS, type IdempotentWrites } from '../../../shared/repositories/idempotent-writes.ts';
import type { CachedClientReads } from '../cached-client-reads.ts';
import type { ClientRepository, ClientWritableFields } from '../client-repository.ts';
import { clientErrorResponses, writableClientProperties } from './schemas.ts';

/** The scope of this route's Idempotency-Keys, next to the caller's id. */
const IDEMPOTENCY_ROUTE = 'POST /api/v1/clients';

export function createClientRoute(
  app: FastifyInstance,
  deps: { clients: ClientRepository; reads: CachedClientReads; idempotentWrites: IdempotentWrites },
) {
  app.post<{ Body: ClientWritableFields }>(
    '/api/v1/clients',
    {
      schema: {
        summary: 'Create a client owned by the caller',
        operationId: 'createClient',
        description:
          'Send an Idempotency-Key header to make a retry safe (after a 503, a 504 or a dropped connection): ' +
          'the retry with the same key and body gets the first answer instead of a second client.',
        security: [{ bearerAuth: [] }],
        headers: idempotencyKeyHeaderSchema(IDEMPOTENCY_KEY_TTL_HOURS),
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: writableClientProperties },
        response: {
          201: {
            $ref: 'Client#',
            description: 'The new client, or the first answer again for a repeated Idempotency-Key',
            headers: {
              [IDEMPOTENT_REPLAYED_HEADER]: {
                type: 'string',
                enum: ['true'],
                description:
                  'Present when this is the stored answer to an earlier request with the same Idempotency-Key.',
              },
            },
          },
          ...clientErrorResponses,
          409: { $ref: 'ErrorBody#', description: 'IDEMPOTENCY_KEY_IN_PROGRESS (with Retry-After)' },
          422: { $ref: 'ErrorBody#', description: 'IDEMPOTENCY_KEY_REUSED: the key was used with another body' },
        },
      },
    },
    async (request, reply) => {
      const ownerId = request.user.sub;
      const key = readIdempotencyKey(request.headers[IDEMPOTENCY_KEY_HEADER]);
      if (key === undefined) {
        const created = await deps.clients.create(ownerId, request.body);
        await deps.reads.forgetClient(ownerId);
        return reply.code(201).send(created);
      }
      const answer = await deps.idempotentWrites.run(
        { ownerId, route: IDEMPOTENCY_ROUTE, key, requestHash: fingerprintRequestBody(request.body) },
        async (tx) => ({ status: 201, body: await deps.clients.create(ownerId, request.body, tx) }),
      );
      // A replay drops the cached lists too: the first attempt may have committed and then died (or
      // lost Redis) before it could, and its client would stay missing from cached pages.
      await deps.reads.forgetClient(ownerId);
      if (answer.replayed) reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
      return reply.code(answer.status).send(answer.body);
    },
  );
}
