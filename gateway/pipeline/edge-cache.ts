// Cached client-list pages answered at the gateway, without the hop to the client worker. Only
// reads: the worker still fills the cache on a miss and drops an owner's pages on every write, and
// everything that is not a plain, canonical list query (or finds nothing) is forwarded as usual.
// Scoped by the verified token's subject, exactly as the worker scopes the list.
import { type Cache, cacheGroups } from '../../shared/cache.ts';
import { clientListCacheField, parseCanonicalClientListQuery } from '../../shared/client-list-query.ts';
import { pageMeta } from '../../shared/schemas/pagination.ts';
import type { Stage } from './pipeline.ts';

const LIST_PATH = '/api/v1/clients';

export async function answerListFromCache(
  cache: Cache,
  request: Request,
  url: URL,
  ownerId: string,
  requestId: string,
): Promise<Response | undefined> {
  if (request.method !== 'GET' || url.pathname !== LIST_PATH) return undefined;
  if (/no-cache/i.test(request.headers.get('cache-control') ?? '')) return undefined;
  // '+' and malformed escapes decode differently between query-string parsers (URLSearchParams
  // here, Fastify's in the worker): let the worker read such queries itself.
  if (url.search.includes('+') || !decodesStrictly(url.search)) return undefined;
  const params = parseCanonicalClientListQuery(url.searchParams);
  if (!params) return undefined;
  const page = await cache.peek<{ rows: unknown[]; total: number }>(
    cacheGroups.clientLists(ownerId),
    clientListCacheField(params),
  );
  if (!page) return undefined;
  return Response.json(
    { data: page.rows, meta: pageMeta(params.page, params.limit, page.total) },
    { headers: { 'x-cache': 'hit', 'x-request-id': requestId } },
  );
}

/** True when every %-escape in the query is well formed UTF-8 (decodeURIComponent would not throw). */
export function decodesStrictly(search: string): boolean {
  try {
    for (const part of search.replace(/^\?/, '').split(/[&=]/)) decodeURIComponent(part);
    return true;
  } catch {
    return false;
  }
}

/** Stage: only a shared cache can be read here (an in-process one lives in the worker). */
export function edgeCacheStage(cache: Cache): Stage {
  return {
    name: 'edge-cache',
    handle(context) {
      if (!context.subject) return undefined;
      return answerListFromCache(cache, context.request, context.url, context.subject, context.requestId);
    },
  };
}
