// The gateway's public port against real origins on local ports: headers, bodies, failure mapping.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { createConnection, createServer, type Server } from 'node:net';
import { validateConfig } from '../shared/env.ts';
import { signTestToken, testKeys } from '../tools/testing/helpers.ts';
import { call } from '../tools/testing/running-system.ts';
import { buildApp } from './app.ts';
import { type ListeningGateway, listenGateway } from './listen.ts';

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A worker stand-in that records what reached it and echoes it back. */
function startEchoOrigin() {
  const seen: Seen[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const url = new URL(request.url);
      // The gateway's readiness probes: answered, not recorded.
      if (url.pathname === '/health/ready') return Response.json({ status: 'ready' });
      const entry = {
        method: request.method,
        path: url.pathname + url.search,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
      };
      seen.push(entry);
      if (url.pathname.endsWith('/teapot')) return new Response('{"short":"and stout"}', { status: 418 });
      return Response.json(entry, { headers: { connection: 'keep-alive', 'x-origin': 'echo' } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, seen, stop: () => server.stop(true) };
}

/** A port that accepts connections and never answers: an upstream that hangs. */
async function startSilentOrigin(): Promise<{ url: string; server: Server }> {
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** A port nothing listens on: listen, note the port, close. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Builds the gateway and opens its port the way server.ts does. */
async function startGateway(config: ReturnType<typeof validateConfig>): Promise<ListeningGateway> {
  const app = await buildApp({ config, keys: { publicKey: testKeys.publicKey } });
  return listenGateway(app, { host: '127.0.0.1', port: 0, upstreamTimeoutSeconds: config.UPSTREAM_TIMEOUT });
}

const token = signTestToken({ sub: '11111111-1111-4111-8111-111111111111' });
const echo = startEchoOrigin();
let silent: { url: string; server: Server };
let gateway: ListeningGateway;
let gatewayUrl: string;

beforeAll(async () => {
  silent = await startSilentOrigin();
  gateway = await startGateway(
    validateConfig('gateway', {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      AUTH_SERVICE_URL: echo.url,
      USER_SERVICE_URL: await closedPortUrl(),
      CLIENT_SERVICE_URL: silent.url,
      UPSTREAM_TIMEOUT: '0.3',
      RATE_LIMIT_MAX: '100000',
      AUTH_RATE_LIMIT_MAX: '100000',
    }),
  );
  gatewayUrl = gateway.url;
});
afterAll(async () => {
  await gateway?.close();
  echo.stop();
  silent?.server.close();
});
afterEach(() => {
  echo.seen.length = 0;
});

describe('forwarding', () => {
  test('path, query, method and body reach the worker unchanged', async () => {
    const response = await call(gatewayUrl, 'POST', '/api/v1/auth/login?x=1&y=%20z', {
      body: { email: 'a@b.c', password: 'p' },
    });
    expect(response.status).toBe(200);
    expect(echo.seen[0]).toMatchObject({ method: 'POST', path: '/api/v1/auth/login?x=1&y=%20z' });
    expect(JSON.parse(echo.seen[0]?.body ?? '')).toEqual({ email: 'a@b.c', password: 'p' });
  });

  test('x-forwarded-* and x-request-id are set; hop-by-hop headers are dropped both ways', async () => {
    const response = await call(gatewayUrl, 'GET', '/api/v1/auth/me', {
      token,
      headers: {
        'x-request-id': 'req-42',
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': 'drop me',
        te: 'trailers',
      },
    });
    const headers = echo.seen[0]?.headers ?? {};
    expect(headers['x-request-id']).toBe('req-42');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe(new URL(gatewayUrl).host);
    expect(headers['x-secret-hop']).toBeUndefined();
    expect(headers.te).toBeUndefined();
    expect(headers.authorization).toBe(`Bearer ${token}`);
    expect(response.headers.get('x-origin')).toBe('echo');
    expect(response.headers.get('x-request-id')).toBe('req-42');
  });

  test('a bare HTTP/1.1 request (no Connection header, as curl or wrk send) is forwarded', async () => {
    const { port } = new URL(gatewayUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ port: Number(port), host: '127.0.0.1' }, () => {
        socket.write(`GET /api/v1/auth/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('\r\n\r\n') && text.includes('"method"')) socket.end();
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw.startsWith('HTTP/1.1 200')).toBe(true);
  });

  test('a worker’s own status and body pass through', async () => {
    const response = await call(gatewayUrl, 'GET', '/api/v1/auth/teapot', { token });
    expect(response.status).toBe(418);
    expect(response.body).toEqual({ short: 'and stout' });
  });

  test('bodies over the limit are refused at the gateway with 413', async () => {
    const response = await call(gatewayUrl, 'POST', '/api/v1/auth/register', {
      body: { email: 'a@b.c', password: 'x'.repeat(2 * 1024 * 1024), name: 'big' },
    });
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(echo.seen).toHaveLength(0);
  });
});

describe('upstream failures', () => {
  test('a worker that is down: 503 UPSTREAM_UNAVAILABLE with Retry-After, at once (never a hang)', async () => {
    const started = performance.now();
    const response = await call(gatewayUrl, 'GET', '/api/v1/users/me', { token });
    // A generous bound for a loaded CI machine: what it rules out is waiting on UPSTREAM_TIMEOUT or a retry loop.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ statusCode: 503, code: 'UPSTREAM_UNAVAILABLE' });
    // When the replica may be tried again (its back-off), in whole seconds.
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  test('a worker that hangs: 504 UPSTREAM_TIMEOUT after UPSTREAM_TIMEOUT', async () => {
    const started = performance.now();
    const response = await call(gatewayUrl, 'GET', '/api/v1/clients', { token });
    expect(response.status).toBe(504);
    expect(response.body.code).toBe('UPSTREAM_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  test('a worker that takes the connection and breaks it: 502 UPSTREAM_BAD_RESPONSE', async () => {
    const breaker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => breaker.listen(0, '127.0.0.1', resolve));
    const broken = await startGateway(
      validateConfig('gateway', {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        CLIENT_SERVICE_URL: `http://127.0.0.1:${(breaker.address() as { port: number }).port}`,
      }),
    );
    try {
      const response = await call(broken.url, 'POST', '/api/v1/clients', { token, body: { name: 'x' } });
      expect(response.status).toBe(502);
      expect(response.body.code).toBe('UPSTREAM_BAD_RESPONSE');
    } finally {
      await broken.close();
      breaker.close();
    }
  });

  test('a replica that breaks connections: a GET is answered by another replica, a POST is not sent twice', async () => {
    let broken = 0;
    const breaker = createServer((socket) => {
      broken++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => breaker.listen(0, '127.0.0.1', resolve));
    const breakerUrl = `http://127.0.0.1:${(breaker.address() as { port: number }).port}`;
    const pair = await startGateway(
      validateConfig('gateway', {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        CLIENT_SERVICE_URL: `${breakerUrl},${echo.url}`,
        UPSTREAM_BALANCING: 'round-robin',
      }),
    );
    try {
      const reads = await Promise.all(
        Array.from({ length: 6 }, () => call(pair.url, 'GET', '/api/v1/clients', { token })),
      );
      expect(reads.map((response) => response.status)).toEqual(Array(6).fill(200));
      expect(broken).toBeGreaterThan(0);
      echo.seen.length = 0;
      const writes = [];
      for (let i = 0; i < 6; i++) writes.push(await call(pair.url, 'POST', '/api/v1/clients', { token, body: { i } }));
      const statuses = writes.map((response) => response.status);
      expect(statuses).toContain(502);
      expect(echo.seen.filter((seen) => seen.method === 'POST')).toHaveLength(statuses.filter((s) => s === 200).length);
    } finally {
      await pair.close();
      breaker.close();
    }
  });

  test('non-idempotent requests are not retried', async () => {
    const down = await call(gatewayUrl, 'POST', '/api/v1/users/me', { token, body: { name: 'x' } });
    expect(down.status).toBe(503);
  });
});

describe('the public OpenAPI document', () => {
  test('lists what it could reach and names the workers it could not', async () => {
    const response = await call(gatewayUrl, 'GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.0.3');
    // The echo stand-in answers for auth; the hanging and the closed one cannot.
    expect(response.body['x-unavailable-services']).toEqual(['client', 'user']);
  });
});

describe('overload', () => {
  test('while the event loop lags, API requests get 503 SERVICE_OVERLOADED with Retry-After', async () => {
    const lagging = await startGateway(
      validateConfig('gateway', {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        AUTH_SERVICE_URL: echo.url,
        OVERLOAD_EVENT_LOOP_DELAY_MS: '50',
      }),
    );
    try {
      const blockUntil = Date.now() + 400; // the event loop stalls
      while (Date.now() < blockUntil) {}
      let response = await call(lagging.url, 'GET', '/api/v1/auth/me', { token });
      for (let i = 0; i < 30 && response.status !== 503; i++) {
        await Bun.sleep(50); // until the next sample has seen the stall
        const again = Date.now() + 400;
        while (Date.now() < again) {}
        response = await call(lagging.url, 'GET', '/api/v1/auth/me', { token });
      }
      expect(response.status).toBe(503);
      expect(response.body.code).toBe('SERVICE_OVERLOADED');
      expect(response.headers.get('retry-after')).toBe('1');
    } finally {
      await lagging.close();
    }
  }, 30_000);
});

describe('the boundary between the pipeline and the operations app', () => {
  test('a hook registered on the operations app runs for its own routes, never for /api/v1/*', async () => {
    const app = await buildApp({
      config: validateConfig('gateway', { NODE_ENV: 'test', LOG_LEVEL: 'silent', AUTH_SERVICE_URL: echo.url }),
      keys: { publicKey: testKeys.publicKey },
    });
    // What a Fastify developer would reach for (CORS, helmet, a logging hook): it does not cover the API.
    app.operations.addHook('onRequest', async (_request, reply) => {
      reply.header('x-operations-hook', 'ran');
    });
    const listening = await listenGateway(app, { host: '127.0.0.1', port: 0, upstreamTimeoutSeconds: 1 });
    try {
      const own = await call(listening.url, 'GET', '/health/ready');
      expect(own.headers.get('x-operations-hook')).toBe('ran');
      const api = await call(listening.url, 'GET', '/api/v1/auth/me', { token });
      expect(api.status).toBe(200);
      expect(api.headers.get('x-operations-hook')).toBeNull();
    } finally {
      await listening.close();
    }
  });

  test('redirects from the operations app reach the client as redirects', async () => {
    const response = await fetch(`${gatewayUrl}/docs`, { redirect: 'manual' });
    expect([301, 302]).toContain(response.status);
    expect(response.headers.get('location')).toBe('/docs/');
  });

  test('a path under /docs the API reference does not have is a 404 in the one error shape', async () => {
    const response = await fetch(`${gatewayUrl}/docs/nothing-here?x=1`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { code: string; message: string; requestId: string };
    expect(body.code).toBe('NOT_FOUND');
    expect(body.message).toBe('Route GET /docs/nothing-here not found');
    expect(body.requestId).toBe(response.headers.get('x-request-id') as string);
  });

  test('encoded characters in API paths are refused before any limit or worker sees them', async () => {
    const response = await call(gatewayUrl, 'POST', '/api/v1/auth/logi%6E', {
      body: { email: 'a@b.c', password: 'p' },
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(echo.seen).toHaveLength(0);
  });
});
