// The public OpenAPI document: the gateway's own routes plus every worker's, fetched from the
// workers and merged. Cached briefly; a worker that does not answer is left out and named.
import type { FastifyInstance } from 'fastify';
import { OPENAPI_PATH } from '../shared/plugins/openapi.ts';
import type { Upstream } from './upstreams.ts';

type OpenApiDocument = {
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
  [key: string]: unknown;
};

const CACHE_MS = 30_000;
const FETCH_TIMEOUT_MS = 2_000;

export function registerCombinedOpenApi(app: FastifyInstance, upstreams: Upstream[]): void {
  let cached: { at: number; document: OpenApiDocument } | undefined;

  async function build(): Promise<OpenApiDocument> {
    const own = app.swagger() as unknown as OpenApiDocument;
    const merged: OpenApiDocument = {
      ...own,
      info: { title: 'poolwise API', version: '0.1.0', description: 'Everything reachable through the gateway.' },
      paths: { ...own.paths },
      components: { ...own.components, schemas: { ...own.components?.schemas } },
    };
    const missing: string[] = [];
    await Promise.all(
      upstreams.map(async (upstream) => {
        try {
          const replica = upstream.replicas.pick();
          if (!replica) throw new Error('no replica in rotation');
          const response = await fetch(new URL(OPENAPI_PATH, replica.origin), {
            signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
          });
          if (!response.ok) throw new Error(`status ${response.status}`);
          const document = (await response.json()) as OpenApiDocument;
          for (const [path, item] of Object.entries(document.paths ?? {})) {
            if (path.startsWith('/api/')) (merged.paths as Record<string, unknown>)[path] = item;
          }
          Object.assign(merged.components?.schemas ?? {}, document.components?.schemas);
        } catch (error) {
          missing.push(upstream.name);
          app.log.warn({ upstream: upstream.name, err: error }, 'could not fetch a worker OpenAPI document');
        }
      }),
    );
    if (missing.length > 0) merged['x-unavailable-services'] = missing.sort();
    else cached = { at: Date.now(), document: merged };
    return merged;
  }

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.document;
    return build();
  });
}
