// The gateway's rate limit through its real port: a valid access token is counted against its
// account, anything else against its address, the credential routes always per address. Clients
// come from several addresses through one trusted proxy hop (X-Forwarded-For), as behind an ingress.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import type { Server } from 'bun';
import { type Cache, cacheGroups, createCache } from '../shared/cache.ts';
import { clientListCacheField, parseCanonicalClientListQuery } from '../shared/client-list-query.ts';
import { validateConfig } from '../shared/env.ts';
import { type RunningRedis, startRedis } from '../tools/stack/redis.ts';
import { signTestToken, testKeys } from '../tools/testing/helpers.ts';
import { call } from '../tools/testing/running-system.ts';
import { buildApp, type GatewayApp } from './app.ts';
import { type ListeningGateway, listenGateway } from './listen.ts';

const LIMIT = 3;
const CREDENTIAL_LIMIT = 2;

/** A worker stand-in: every route answers 200, readiness included. */
const origin = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ ok: true }) });
const originUrl = `http://127.0.0.1:${origin.port}`;

/** The gateway's settings for these tests: small limits, every worker the stand-in. */
const gatewayConfig = (trustedHops: number, more: Record<string, string> = {}) =>
  validateConfig('gateway', {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SERVICE_URL: originUrl,
    USER_SERVICE_URL: originUrl,
    CLIENT_SERVICE_URL: originUrl,
    TRUST_PROXY_HOPS: String(trustedHops),
    RATE_LIMIT_MAX: String(LIMIT),
    AUTH_RATE_LIMIT_MAX: String(CREDENTIAL_LIMIT),
    ...more,
  });

let gateway: ListeningGateway;

beforeAll(async () => {
  const app = await buildApp({ config: gatewayConfig(1), keys: { publicKey: testKeys.publicKey } });
  gateway = await listenGateway(app, { host: '127.0.0.1', port: 0, upstreamTimeoutSeconds: 5 });
});
afterAll(async () => {
  await gateway?.close();
  origin.stop(true);
});

const account = () => signTestToken({ sub: randomUUID() });
/** A client at `address` (behind the trusted proxy), with a token or without. */
const listFrom = (address: string, token?: string) =>
  call(gateway.url, 'GET', '/api/v1/clients', { token, headers: { 'x-forwarded-for': address } });
const statuses = async (requests: (() => Promise<{ status: number }>)[]) => {
  const seen: number[] = [];
  for (const request of requests) seen.push((await request()).status);
  return seen;
};

describe('rate limit per caller', () => {
  test('a valid token is counted against its account, from whatever address it comes', async () => {
    const token = account();
    const seen = await statuses(
      ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'].map((address) => () => listFrom(address, token)),
    );
    expect(seen).toEqual([200, 200, 200, 429]);
    const refused = await listFrom('198.51.100.5', token);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  test('accounts behind one address each have their own limit, apart from the address', async () => {
    const address = '198.51.100.20';
    const first = account();
    expect(await statuses(Array.from({ length: LIMIT + 1 }, () => () => listFrom(address, first)))).toEqual([
      200, 200, 200, 429,
    ]);
    // Same address, another account: a full limit of its own. Anonymous requests: the address's own count.
    expect(await statuses(Array.from({ length: LIMIT }, () => () => listFrom(address, account())))).toEqual([
      200, 200, 200,
    ]);
    expect(await statuses(Array.from({ length: LIMIT + 1 }, () => () => listFrom(address)))).toEqual([
      401, 401, 401, 429,
    ]);
  });

  test('forged, expired and foreign tokens are counted against the address, not the account they name', async () => {
    const address = '198.51.100.30';
    const subject = randomUUID();
    const forged = `${signTestToken({ sub: subject }).slice(0, -4)}AAAA`;
    const expired = signTestToken({ sub: subject }, { expiresIn: 1, clockTimestamp: Date.now() - 60_000 });
    const otherAudience = signTestToken({ sub: subject }, { aud: 'another-api' });
    expect(
      await statuses([
        () => listFrom(address, forged),
        () => listFrom(address, expired),
        () => listFrom(address, otherAudience),
        () => listFrom(address, forged),
      ]),
    ).toEqual([401, 401, 401, 429]);
    // The account they named is untouched: its real token still has its whole limit.
    const real = signTestToken({ sub: subject });
    expect(await statuses(Array.from({ length: LIMIT }, () => () => listFrom(address, real)))).toEqual([200, 200, 200]);
  });

  test('the credential routes count per address, a valid token or not', async () => {
    const address = '198.51.100.40';
    const login = (token?: string) =>
      call(gateway.url, 'POST', '/api/v1/auth/login', {
        token,
        body: { email: 'someone@example.test', password: 'long enough password' },
        headers: { 'x-forwarded-for': address },
      });
    expect(await statuses([() => login(account()), () => login(account()), () => login()])).toEqual([200, 200, 429]);
  });

  test('racing requests of one account: exactly the limit is served, every time', async () => {
    for (let round = 0; round < 10; round++) {
      const token = account();
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, index) => listFrom(`203.0.113.${index + 1}`, token)),
      );
      const counted = answers.map((answer) => answer.status).sort();
      expect(counted.filter((status) => status === 200)).toHaveLength(LIMIT);
      expect(counted.filter((status) => status === 429)).toHaveLength(12 - LIMIT);
    }
  });
});

describe('the socket address is read only for callers without a valid token', () => {
  let app: GatewayApp;
  beforeAll(async () => {
    app = await buildApp({ config: gatewayConfig(0), keys: { publicKey: testKeys.publicKey } });
  });
  afterAll(() => app?.close());

  /** Bun's server as the pipeline uses it: only requestIP, each call a getpeername. */
  const countingServer = () => {
    const reads = { count: 0 };
    const server = {
      requestIP: () => {
        reads.count++;
        return { address: '192.0.2.7', family: 'IPv4', port: 40_000 };
      },
    } as unknown as Server<unknown>;
    return { reads, server };
  };
  const request = (token?: string) =>
    new Request('http://gateway/api/v1/clients', { headers: token ? { authorization: `Bearer ${token}` } : {} });

  test('a valid token: counted and refused by account, no address read', async () => {
    const token = account();
    // Past the limit, so the rate limit itself answers and nothing is forwarded (forwarding reads the
    // socket for X-Forwarded-For).
    for (let i = 0; i < LIMIT; i++) await app.handle(request(token), countingServer().server);
    const { reads, server } = countingServer();
    const answer = await app.handle(request(token), server);
    expect(answer.status).toBe(429);
    expect(reads.count).toBe(0);
  });

  test('a page answered at the edge (real Redis): no address read', async () => {
    let redis: RunningRedis | undefined;
    let edgeApp: GatewayApp | undefined;
    let filler: Cache | undefined;
    try {
      redis = await startRedis();
      edgeApp = await buildApp({
        config: gatewayConfig(0, {
          REDIS_URL: redis.url,
          CACHE_ENABLED: 'true',
          EDGE_CACHE_ENABLED: 'true',
          RATE_LIMIT_MAX: '1000',
        }),
        keys: { publicKey: testKeys.publicKey },
      });
      // What the client worker would have stored: the session's standing and one page.
      const owner = { id: randomUUID(), sessionId: randomUUID() };
      filler = createCache({ redisUrl: redis.url, enabled: true, ttlSeconds: 60, timeoutMs: 500, logger: console });
      const params = parseCanonicalClientListQuery(new URLSearchParams('page=1&limit=20'));
      if (!params) throw new Error('the page query is not canonical');
      const entries = [
        { group: cacheGroups.sessionStanding(owner.id), field: owner.sessionId, value: true },
        {
          group: cacheGroups.clientLists(owner.id),
          field: clientListCacheField(params),
          value: { rows: [], total: 0 },
        },
      ];
      for (const { group, field, value } of entries) {
        // A miss is stored after it is answered, and not at all before the connection is up: until Redis has it.
        for (let i = 0; i < 100 && (await filler.peek(group, field)) === undefined; i++) {
          await filler.readThrough(group, field, async () => value);
          await Bun.sleep(10);
        }
      }
      const token = signTestToken({ sub: owner.id, sid: owner.sessionId });
      const page = () =>
        new Request('http://gateway/api/v1/clients?page=1&limit=20', { headers: { authorization: `Bearer ${token}` } });
      // The gateway's own Redis connection opens on its first use: until then pages are forwarded.
      for (let i = 0; i < 50; i++) {
        if ((await edgeApp.handle(page(), countingServer().server)).headers.get('x-cache') === 'hit') break;
        await Bun.sleep(20);
      }
      const { reads, server } = countingServer();
      const answer = await edgeApp.handle(page(), server);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-cache')).toBe('hit');
      expect(reads.count).toBe(0);
    } finally {
      await filler?.close();
      await edgeApp?.close();
      await redis?.stop();
    }
  });

  test('no token or a forged one: the address is read, once', async () => {
    for (const token of [undefined, `${account().slice(0, -4)}AAAA`]) {
      const { reads, server } = countingServer();
      const answer = await app.handle(request(token), server);
      expect(answer.status).toBe(401);
      expect(reads.count).toBe(1);
    }
  });
});
