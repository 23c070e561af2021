// Each service documents its own routes from their JSON schemas (@fastify/swagger); the gateway
// merges the workers' documents into the one public /openapi.json.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { ServiceName } from '../config-schema.ts';

export const OPENAPI_PATH = '/openapi.json';

export async function registerOpenApi(app: FastifyInstance, service: ServiceName, serveDocument = true): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: `poolwise ${service}`, version: '0.1.0' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    // Shared schemas keep their names (ErrorBody, PublicUser, Client) instead of def-0, def-1 ...
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  if (serveDocument) app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
