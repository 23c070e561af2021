// The CORS stage on a real gateway port, in front of a worker stand-in that records what reaches it:
// preflights are answered at the gateway and never forwarded, and only origins on CORS_ORIGINS get
// Allow-Origin (on every answer, the gateway's own errors included).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { validateConfig } from '../../shared/env.ts';
import { signTestToken, testKeys } from '../../tools/testing/helpers.ts';
import { buildApp } from '../app.ts';
import { type ListeningGateway, listenGateway } from '../listen.ts';
import { CORS_EXPOSED_HEADERS } from './cors.ts';

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example.net';
const token = signTestToken({ sub: '11111111-1111-4111-8111-111111111111' });

const reached: string[] = [];
const worker = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/health/ready') return Response.json({ status: 'ready' });
    reached.push(`${request.method} ${url.pathname}`);
    return Response.json({ ok: true });
  },
});

async function startGateway(values: Record<string, string>): Promise<ListeningGateway> {
  const config = validateConfig('gateway', {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SERVICE_URL: `http://127.0.0.1:${worker.port}`,
    ...values,
  });
  const app = await buildApp({ config, keys: { publicKey: testKeys.publicKey } });
  return listenGateway(app, { host: '127.0.0.1', port: 0, upstreamTimeoutSeconds: 1 });
}

let gateway: ListeningGateway;
let closedGateway: ListeningGateway;
beforeAll(async () => {
  gateway = await startGateway({ CORS_ORIGINS: `${ALLOWED}, http://127.0.0.1:1` });
  closedGateway = await startGateway({});
});
afterAll(async () => {
  await gateway?.close();
  await closedGateway?.close();
  worker.stop(true);
});

const preflight = (url: string, origin: string) =>
  fetch(`${url}/api/v1/auth/me`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });

describe('CORS', () => {
  test('a preflight from an allowed origin is answered at the gateway and never forwarded', async () => {
    reached.length = 0;
    const response = await preflight(gateway.url, ALLOWED);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toContain('Origin');
    expect(reached).toEqual([]);
  });

  test('a preflight from any other origin gets no permission, and is not forwarded either', async () => {
    reached.length = 0;
    for (const url of [gateway.url, closedGateway.url]) {
      const response = await preflight(url, url === gateway.url ? OTHER : ALLOWED);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-methods')).toBeNull();
    }
    expect(reached).toEqual([]);
  });

  test('an allowed origin may read the answer and the headers clients need; Vary: Origin on every answer', async () => {
    const response = await fetch(`${gateway.url}/api/v1/auth/me`, {
      headers: { origin: ALLOWED, authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('access-control-expose-headers')).toBe(CORS_EXPOSED_HEADERS);
    for (const name of ['x-request-id', 'retry-after', 'x-cache']) {
      expect(response.headers.get('access-control-expose-headers')).toContain(name);
    }
    expect(response.headers.get('vary')).toContain('Origin');

    const other = await fetch(`${gateway.url}/api/v1/auth/me`, {
      headers: { origin: OTHER, authorization: `Bearer ${token}` },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toContain('Origin');
  });

  test("the gateway's own refusals are readable by an allowed origin too", async () => {
    const response = await fetch(`${gateway.url}/api/v1/auth/me`, { headers: { origin: ALLOWED } });
    expect(response.status).toBe(401);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  test('nothing is allowed by default', async () => {
    const response = await fetch(`${closedGateway.url}/api/v1/auth/me`, {
      headers: { origin: ALLOWED, authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
