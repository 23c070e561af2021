// `bun --no-env-file tools/bench/pipeline-cost.ts`: what the gateway's own pipeline adds to a
// page answered at its edge, in microseconds per request, in process: no network, no Redis, no load
// generator, so a change of half a microsecond shows (scenario 5's rounds move by several percent on
// their own). Both sides get the same Request and do the same work on the same in-process cache: the
// token check, the two cache reads, the body (readListFromCache, as tools/bench/peers/minimal-edge.ts
// does). The gateway's side is its real buildApp() with the edge cache on; the difference is the rest
// of its pipeline. (Leaving stages out one at a time does not price them: each removal moved the
// total by about as much, stages the hit never reaches included; the JIT sees a different pipeline.)
//
// What it cannot see: the socket (requestIP is given a fixed address here), the extra header bytes on
// the wire, and garbage collection under a larger heap. Scenario 5 measures those with the rest.
import { randomUUID } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { buildApp } from '../../gateway/app.ts';
import { edgeCacheStage, readListFromCache } from '../../gateway/pipeline/edge-cache.ts';
import type { Stage } from '../../gateway/pipeline/pipeline.ts';
import { cacheGroups, createCache } from '../../shared/cache.ts';
import { clientListCacheField, parseCanonicalClientListQuery } from '../../shared/client-list-query.ts';
import { validateConfig } from '../../shared/env.ts';
import { accessTokenVerifyRules } from '../../shared/plugins/access-token.ts';
import { signTestToken, testKeys } from '../testing/helpers.ts';
import { median } from './median.ts';

const REQUESTS = 50_000;
const REPEATS = 7;
const URL_OF_PAGE = 'http://127.0.0.1:3000/api/v1/clients?page=1&limit=20';

const config = validateConfig('gateway', {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  CACHE_ENABLED: 'false', // the operations app's own cache; the edge stage gets the one below
  RATE_LIMIT_MAX: '10000000',
});
const owner = { id: randomUUID(), sessionId: randomUUID() };
// Valid for the whole run (a slow machine takes minutes), the test key pair's like every test's.
const token = signTestToken({ sub: owner.id, sid: owner.sessionId }, { expiresIn: 3_600_000 });

// One cached page of 20 clients and a live session, as the worker would have stored them.
const cache = createCache({ enabled: true, ttlSeconds: 3_600, timeoutMs: 100, logger: console });
const params = parseCanonicalClientListQuery(new URL(URL_OF_PAGE).searchParams);
if (!params) throw new Error('the page query is not canonical');
const rows = Array.from({ length: 20 }, (_, index) => ({
  id: randomUUID(),
  name: `Client ${index}`,
  email: `client-${index}@example.test`,
  company: 'Acme',
  status: 'LEAD',
  createdAt: new Date().toISOString(),
}));
await cache.readThrough(cacheGroups.sessionStanding(owner.id), owner.sessionId, async () => true);
await cache.readThrough(cacheGroups.clientLists(owner.id), clientListCacheField(params), async () => ({
  rows,
  total: 500,
}));

// The gateway as app.ts builds it, plus the edge stage where app.ts puts it when the shared cache is on
// (right after the token check).
const app = await buildApp({ config, keys: { publicKey: testKeys.publicKey } });
const stages = app.stages as Stage[];
stages.splice(stages.findIndex((stage) => stage.name === 'token-check') + 1, 0, edgeCacheStage(cache));
const server = { requestIP: () => ({ address: '127.0.0.1', family: 'IPv4', port: 40_000 }) } as never;
const headers = { authorization: `Bearer ${token}`, host: '127.0.0.1:3000', 'user-agent': 'pipeline-cost' };

const verify = createVerifier({
  key: testKeys.publicKey,
  ...accessTokenVerifyRules(config.JWT_ISSUER, config.JWT_AUDIENCE),
});
const BEARER = /^Bearer\s+(\S+)$/i;
/** The minimal edge's work (tools/bench/peers/minimal-edge.ts), on the same cache. */
async function minimal(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const claims = verify(BEARER.exec(request.headers.get('authorization') ?? '')?.[1] ?? '') as {
    sub: string;
    sid: string;
  };
  const body = await readListFromCache(cache, request, url, { ownerId: claims.sub, sessionId: claims.sid });
  if (!body) throw new Error('the minimal side missed the cache');
  return Response.json(body, { headers: { 'x-cache': 'hit', 'x-request-id': randomUUID() } });
}

async function microsecondsPerRequest(answer: (request: Request) => Promise<Response>): Promise<number> {
  const started = performance.now();
  for (let index = 0; index < REQUESTS; index++) {
    const response = await answer(new Request(URL_OF_PAGE, { headers }));
    if (response.headers.get('x-cache') !== 'hit') throw new Error(`not answered at the edge: ${response.status}`);
  }
  return ((performance.now() - started) * 1000) / REQUESTS;
}

/**
 * Gateway and minimal side by side, REPEATS times, each pair one after the other: the pipeline's own cost
 * is the median of the pairs' differences (a drift of the machine weighs on both sides of a pair).
 */
async function measure(): Promise<{ gateway: number; minimal: number; own: number }> {
  const gateway: number[] = [];
  const least: number[] = [];
  const own: number[] = [];
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    gateway.push(await microsecondsPerRequest((request) => app.handle(request, server)));
    least.push(await microsecondsPerRequest(minimal));
    own.push((gateway.at(-1) as number) - (least.at(-1) as number));
  }
  return { gateway: median(gateway), minimal: median(least), own: median(own) };
}

const format = (value: number) => `${value.toFixed(2)} µs`;
const all = await measure();
console.log(
  `edge hit in process: gateway ${format(all.gateway)}, minimal ${format(all.minimal)}, ` +
    `the pipeline's own ${format(all.own)} a request`,
);
await app.close();
process.exit(0);
