// Cached client-list pages answered at the gateway, without the hop to the client worker. Only
// reads: the worker still fills the cache on a miss and drops an owner's pages on every write, and
// everything that is not a plain, canonical list query (or finds nothing) is forwarded as usual.
// Scoped by the verified token's subject, exactly as the worker scopes the list.
//
// Why the session is checked here too: a signature outlives logout, a password change or a disabled
// account. A page is answered only when the cache also says the token's session is live, an answer the
// workers' own session check stored (shared/repositories/cached-session-standing.ts) and that every
// revocation drops. No such answer (never checked, or dropped by a revocation): forward, and the worker
// decides. Dropping the owner's pages instead would not do: their other sessions refill them at once.
import { type Cache, cacheGroups } from '../../shared/cache.ts';
import {
  type ClientListPage,
  clientListCacheField,
  clientListMeta,
  parseCanonicalClientListQuery,
} from '../../shared/client-list-query.ts';
import { answerWithStandingHeaders, type GatewayRequest, type Stage } from './pipeline.ts';

const LIST_PATH = '/api/v1/clients';
/** As the worker (Fastify) and the gateway's own errors send it: a hit looks like a miss. */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The cached page for this request, as the worker would answer it, or undefined (forward it). */
export async function readListFromCache(
  cache: Cache,
  request: Request,
  url: URL,
  session: { ownerId: string; sessionId: string },
): Promise<{ data: ClientListPage['rows']; meta: ReturnType<typeof clientListMeta> } | undefined> {
  const { ownerId, sessionId } = session;
  if (request.method !== 'GET' || url.pathname !== LIST_PATH) return undefined;
  if (/no-cache/i.test(request.headers.get('cache-control') ?? '')) return undefined;
  // '+' and malformed escapes decode differently between query-string parsers (URLSearchParams
  // here, Fastify's in the worker): let the worker read such queries itself.
  if (url.search.includes('+') || !decodesStrictly(url.search)) return undefined;
  const params = parseCanonicalClientListQuery(url.searchParams);
  if (!params) return undefined;
  // Both reads at once: one round trip's wait, not two.
  const [live, page] = await Promise.all([
    cache.peek<boolean>(cacheGroups.sessionStanding(ownerId), sessionId),
    cache.peek<ClientListPage>(cacheGroups.clientLists(ownerId), clientListCacheField(params)),
  ]);
  if (live !== true || !page) return undefined;
  return { data: page.rows, meta: clientListMeta(params, page) };
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

async function answerFromCache(
  cache: Cache,
  context: GatewayRequest,
  session: { ownerId: string; sessionId: string },
): Promise<Response | undefined> {
  const body = await readListFromCache(cache, context.request, context.url, session);
  if (!body) return undefined;
  return answerWithStandingHeaders(
    context,
    { json: body },
    {
      headers: { 'content-type': JSON_CONTENT_TYPE, 'x-cache': 'hit' },
    },
  );
}

/** Stage: only a shared cache can be read here (an in-process one lives in the worker). */
export function edgeCacheStage(cache: Cache): Stage {
  return {
    name: 'edge-cache',
    handle(context) {
      // Without a verified session (the credential routes) there is no promise to wait for.
      if (!context.subject || !context.sessionId) return undefined;
      return answerFromCache(cache, context, { ownerId: context.subject, sessionId: context.sessionId });
    },
  };
}
