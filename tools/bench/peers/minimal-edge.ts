// The yardstick for the gateway's edge hit: the least a Bun.serve can do to give the same answer. It
// runs the same code on the same inputs: the token check with the gateway's verifier rules
// (shared/plugins/access-token.ts), the same two Redis reads in parallel and the same body
// (readListFromCache, gateway/pipeline/edge-cache.ts, through shared/cache.ts). What it leaves out
// is the rest of the gateway's pipeline (request ids from the caller, security headers, CORS, rate
// limit, overload, routing), which is what the ratio prices. A miss is forwarded, as the gateway does.
// Run as its own process: JWT_PUBLIC_KEY=... bun minimal-edge.ts PORT REDIS_URL UPSTREAM_BASE_URL
import { randomUUID } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { readListFromCache } from '../../../gateway/pipeline/edge-cache.ts';
import { createCache } from '../../../shared/cache.ts';
import { accessTokenVerifyRules } from '../../../shared/plugins/access-token.ts';

const [port, redisUrl, upstream] = process.argv.slice(2);
const publicKey = process.env.JWT_PUBLIC_KEY;
if (!port || !redisUrl || !upstream || !publicKey)
  throw new Error('usage: JWT_PUBLIC_KEY=... minimal-edge.ts PORT REDIS_URL UPSTREAM_BASE_URL');

// The services' defaults (shared/config-schema.ts), as the bench runs them.
const verify = createVerifier({ key: publicKey, ...accessTokenVerifyRules('poolwise-auth', 'poolwise-api') });
const cache = createCache({ redisUrl, enabled: true, ttlSeconds: 30, timeoutMs: 100, logger: console });
const BEARER = /^Bearer\s+(\S+)$/i;

Bun.serve({
  port: Number(port),
  hostname: '127.0.0.1',
  async fetch(request) {
    const url = new URL(request.url);
    const token = BEARER.exec(request.headers.get('authorization') ?? '')?.[1];
    let claims: { sub: string; sid: string };
    try {
      claims = verify(token ?? '') as { sub: string; sid: string };
    } catch {
      return Response.json({ error: 'unauthorized' }, { status: 401 });
    }
    const session = { ownerId: claims.sub, sessionId: claims.sid };
    const body = await readListFromCache(cache, request, url, session);
    if (body) return Response.json(body, { headers: { 'x-cache': 'hit', 'x-request-id': randomUUID() } });
    return fetch(`${upstream}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
  },
});
