// In production the public port serves the API and liveness only; readiness, metrics, status, docs
// and the OpenAPI document are on the operations listener (OPS_HOST:OPS_PORT), which orchestrator
// probes and Prometheus reach and the public never does. A production gateway in front of real workers.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { urlKey, WORKER_NAMES } from '../shared/services.ts';
import { testConfig, testKeys } from '../tools/testing/helpers.ts';
import { call, type RunningSystem, startSystem } from '../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';
import { buildApp, type GatewayApp } from './app.ts';
import { type ListeningGateway, listenGateway } from './listen.ts';
import { operationsListenerFor } from './operations-listener.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const OPERATIONS_PATHS = ['/health/ready', '/metrics', '/status', '/status.json', '/docs', '/openapi.json'];

let system: RunningSystem;
let app: GatewayApp;
let production: ListeningGateway;
beforeAll(async () => {
  system = await startSystem();
  const addresses = Object.fromEntries(
    WORKER_NAMES.map((name) => [urlKey(name), system.replicas[name].map((replica) => replica.url).join(',')]),
  );
  app = await buildApp({
    config: testConfig('gateway', { ...addresses, NODE_ENV: 'production', OPS_HOST: '127.0.0.1', OPS_PORT: '0' }),
    keys: { publicKey: testKeys.publicKey },
  });
  production = await listenGateway(app, { host: '127.0.0.1', port: 0, upstreamTimeoutSeconds: 10 });
});
afterAll(async () => {
  await production?.close();
  await system?.close();
});

describe('a production gateway', () => {
  test('answers operational paths on the public port with 404 NOT_FOUND, in the error shape', async () => {
    for (const path of OPERATIONS_PATHS) {
      const response = await call(production.url, 'GET', path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    }
  });

  test('keeps the API and liveness on the public port', async () => {
    expect((await call(production.url, 'GET', '/health/live')).status).toBe(200);
    expect((await call(production.url, 'GET', '/health')).status).toBe(200);
    const login = await call(production.url, 'POST', '/api/v1/auth/login', {
      body: { email: 'nobody@example.test', password: 'not the password' },
    });
    expect(login.body.code).toBe('AUTH_INVALID_CREDENTIALS');
  });

  test('serves health, readiness, metrics, status and docs on the operations listener', async () => {
    const operationsUrl = production.operationsUrl as string;
    expect(operationsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(operationsUrl).not.toBe(production.url);
    expect((await call(operationsUrl, 'GET', '/health/live')).status).toBe(200);
    const ready = await call(operationsUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.service).toBe('gateway');
    const metrics = await fetch(`${operationsUrl}/metrics`);
    expect(await metrics.text()).toContain('http_requests_total');
    expect((await call(operationsUrl, 'GET', '/status.json')).body.services).toHaveLength(WORKER_NAMES.length);
    expect((await call(operationsUrl, 'GET', '/openapi.json')).body.openapi).toBeString();
    expect((await fetch(`${operationsUrl}/docs/`)).status).toBe(200);
  });
  test('draining (SIGTERM): readiness on the operations listener fails at once', async () => {
    const operationsUrl = production.operationsUrl as string;
    expect((await call(operationsUrl, 'GET', '/health/ready')).status).toBe(200);
    app.draining = true;
    try {
      const draining = await call(operationsUrl, 'GET', '/health/ready');
      expect(draining.status).toBe(503);
      expect(draining.body.code).toBe('NOT_READY');
    } finally {
      app.draining = false;
    }
  });
});

describe('where operational endpoints are served', () => {
  const listenerOf = (values: Record<string, string>) => operationsListenerFor(testConfig('gateway', values));

  test('production: on their own listener, port 9100 unless OPS_PORT says otherwise, on OPS_HOST or HOST', () => {
    expect(listenerOf({ NODE_ENV: 'production', HOST: '0.0.0.0' })).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(listenerOf({ NODE_ENV: 'production', OPS_HOST: '10.0.0.5', OPS_PORT: '9200' })).toEqual({
      host: '10.0.0.5',
      port: 9200,
    });
  });

  test('development and test: on the public port, unless OPS_PORT asks for the production layout', () => {
    expect(listenerOf({ NODE_ENV: 'development' })).toBeUndefined();
    expect(listenerOf({ NODE_ENV: 'test', OPS_PORT: '9300' })).toEqual({ host: '127.0.0.1', port: 9300 });
  });
});
