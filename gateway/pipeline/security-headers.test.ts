// The security-header stage on a real gateway port: every answer (API, the gateway's own errors,
// operations pages, 404s, liveness) carries helmet's usual headers; HSTS only in production.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { validateConfig } from '../../shared/env.ts';
import { signTestToken, testKeys } from '../../tools/testing/helpers.ts';
import { buildApp } from '../app.ts';
import { type ListeningGateway, listenGateway } from '../listen.ts';
import { HSTS, SECURITY_HEADERS } from './security-headers.ts';

const token = signTestToken({ sub: '11111111-1111-4111-8111-111111111111' });
const worker = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch: (request) =>
    new URL(request.url).pathname === '/health/ready'
      ? Response.json({ status: 'ready' })
      : Response.json({ ok: true }),
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
beforeAll(async () => {
  gateway = await startGateway({});
});
afterAll(async () => {
  await gateway?.close();
  worker.stop(true);
});

describe('security headers', () => {
  test('on API answers, errors, operations pages and 404s; no HSTS outside production', async () => {
    const answers = await Promise.all([
      fetch(`${gateway.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } }),
      fetch(`${gateway.url}/api/v1/auth/me`),
      fetch(`${gateway.url}/status`),
      fetch(`${gateway.url}/nowhere`),
      fetch(`${gateway.url}/health`),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 401, 200, 404, 200]);
    for (const answer of answers) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(answer.headers.get(name)).toBe(value);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('strict-transport-security')).toBeNull();
    }
  });

  test('HSTS in production', async () => {
    const production = await startGateway({
      NODE_ENV: 'production',
      OPS_PORT: '0',
      JWT_PUBLIC_KEY: testKeys.publicKey,
    });
    try {
      const response = await fetch(`${production.url}/api/v1/auth/me`);
      expect(response.headers.get('strict-transport-security')).toBe(HSTS);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    } finally {
      await production.close();
    }
  });
});
