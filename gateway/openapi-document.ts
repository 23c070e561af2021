// The public OpenAPI document: the gateway's own routes plus every worker's, fetched from the
// workers and merged, then completed with what consumers and their tools need (`redocly lint` with
// its recommended rules passes on it, redocly.yaml): a server, a tag per API area, the answers the
// gateway and every worker add to each operation (openapi-standard-answers.ts), and only the
// components something refers to. Cached briefly; a worker that does not answer is left out and named.
import type { FastifyInstance } from 'fastify';
import { OPENAPI_PATH } from '../shared/plugins/openapi.ts';
import {
  documentStandardAnswers,
  type Operation,
  REQUEST_ID_HEADER,
  STANDARD_RESPONSES,
} from './openapi-standard-answers.ts';
import type { Upstream } from './upstreams.ts';

type Components = Record<string, Record<string, unknown>>;
type OpenApiDocument = {
  paths?: Record<string, Record<string, Operation>>;
  components?: Components;
  [key: string]: unknown;
};

const CACHE_MS = 30_000;
const FETCH_TIMEOUT_MS = 2_000;

/** One tag per API area: the path segment after /api/v1/. */
const TAG_DESCRIPTIONS: Record<string, string> = {
  auth: 'Accounts, logging in and out, token refresh',
  users: 'Your profile; user administration (admins)',
  clients: "The caller's client records",
};
const tagOf = (path: string) => /^\/api\/v\d+\/([^/]+)/.exec(path)?.[1] ?? 'operations';

/** Every `$ref` reachable from the paths, following references inside components. */
function referencedComponents(document: OpenApiDocument): Set<string> {
  const seen = new Set<string>();
  const pending: unknown[] = [document.paths];
  while (pending.length > 0) {
    const node = pending.pop();
    if (node === null || typeof node !== 'object') continue;
    for (const [key, value] of Object.entries(node)) {
      if (key !== '$ref' || typeof value !== 'string') {
        pending.push(value);
        continue;
      }
      if (seen.has(value)) continue;
      seen.add(value);
      const [, kind, name] = /^#\/components\/([^/]+)\/(.+)$/.exec(value) ?? [];
      if (kind && name) pending.push(document.components?.[kind]?.[name]);
    }
  }
  return seen;
}

/** Completes the merged document in place: tags, standard answers, servers, no unused components. */
export function completeDocument(document: OpenApiDocument): OpenApiDocument {
  const tags = new Set<string>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      operation.tags ??= [tagOf(path)];
      for (const tag of operation.tags) tags.add(tag);
      documentStandardAnswers(path, operation);
    }
  }
  document.tags = [...tags].sort().map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name }));
  // Relative: the API is wherever this document was fetched from (a consumer behind another host
  // name, or reading the operations listener's copy, sets its own base URL).
  document.servers = [{ url: '/', description: 'The gateway that serves this document' }];
  const components: Components = {
    ...document.components,
    responses: { ...STANDARD_RESPONSES },
    headers: { RequestId: REQUEST_ID_HEADER },
  };
  document.components = components;
  const used = referencedComponents(document);
  for (const kind of ['schemas', 'responses', 'headers']) {
    const entries = components[kind] ?? {};
    components[kind] = Object.fromEntries(
      Object.entries(entries).filter(([name]) => used.has(`#/components/${kind}/${name}`)),
    );
  }
  return document;
}

export function registerCombinedOpenApi(app: FastifyInstance, upstreams: Upstream[]): void {
  let cached: { at: number; document: OpenApiDocument } | undefined;

  async function build(): Promise<OpenApiDocument> {
    const own = app.swagger() as unknown as OpenApiDocument;
    const merged: OpenApiDocument = {
      ...own,
      info: { title: 'poolwise API', version: '0.1.0', description: 'Everything reachable through the gateway.' },
      paths: structuredClone(own.paths ?? {}),
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
    completeDocument(merged);
    if (missing.length > 0) merged['x-unavailable-services'] = missing.sort();
    else cached = { at: Date.now(), document: merged };
    return merged;
  }

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.document;
    return build();
  });
}
