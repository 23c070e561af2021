// Cached client-list pages answered at the gateway, without the hop to the client worker. Only
// reads: the worker still fills the cache on a miss and drops an owner's pages on every write, and
// everything that is not a plain, canonical list query (or finds nothing) is forwarded as usual.
// Scoped by the verified token's subject, exactly as the worker scopes the list.
import { type Cache, cacheGroups } from '../shared/cache.ts';
import { clientListCacheField, parseCanonicalClientListQuery } from '../shared/client-list-query.ts';
import { pageMeta } from '../shared/schemas/pagination.ts';

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
  // '+' decodes differently between query-string parsers: let the worker read such queries itself.
  if (url.search.includes('+')) return undefined;
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
