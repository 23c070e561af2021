// Health, readiness, metrics and status on the real stack.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { FastifyInstance } from 'fastify';
import { type RunningRedis, startRedis } from '../../tools/stack/redis.ts';
import { createTestSession, testConfig, testKeys } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';
import { buildApp as buildClientWorker } from '../../workers/client/app.ts';
import { READINESS_REUSE_MS } from '../recent-result.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let redis: RunningRedis;
beforeAll(async () => {
  redis = await startRedis();
  system = await startSystem(
    { REDIS_URL: redis.url, DB_CONNECTION_BUDGET: '15', CLIENT_REPLICAS: '3' },
    { replicas: { client: 3 } },
  );
});
afterAll(async () => {
  await system?.close();
  await redis?.stop();
});

describe('workers', () => {
  test('live and ready', async () => {
    const live = await system.apps.client.inject({ method: 'GET', url: '/health/live' });
    expect(live.json()).toEqual({ status: 'ok', service: 'client' });
    // Redis connects in the background: until it has, the worker is (correctly) "degraded".
    let ready = await system.apps.client.inject({ method: 'GET', url: '/health/ready' });
    for (let i = 0; i < 40 && ready.json().status !== 'ready'; i++) {
      await Bun.sleep(50);
      ready = await system.apps.client.inject({ method: 'GET', url: '/health/ready' });
    }
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', service: 'client', checks: { database: 'ok', cache: 'ok' } });
  });

  test('Redis down makes a worker degraded, never not-ready', async () => {
    redis.pause();
    try {
      // An answer checked before the pause (the gateway probes every second) may be reused for a
      // moment: ask once it has expired.
      await Bun.sleep(READINESS_REUSE_MS + 50);
      const ready = await system.apps.user.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().status).toBe('degraded');
      expect(ready.json().checks.cache).toBe('degraded');
    } finally {
      redis.resume();
      // Readiness answers are reused for a moment (a flood of probes costs one check): let this
      // "degraded" one expire before the next test asks.
      await Bun.sleep(READINESS_REUSE_MS + 50);
    }
  });

  test('a database that does not answer makes a worker not ready (503 NOT_READY), quickly', async () => {
    const unreachable: FastifyInstance = await buildClientWorker({
      config: testConfig('client', { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', DB_POOL_TIMEOUT: '0.5' }),
      keys: { publicKey: testKeys.publicKey },
    });
    try {
      const started = performance.now();
      const ready = await unreachable.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().code).toBe('NOT_READY');
      expect(ready.headers['retry-after']).toBe('5');
      expect(performance.now() - started).toBeLessThan(2_500);
    } finally {
      await unreachable.close();
    }
  });

  test('/metrics: requests by route pattern and status, latency, pool gauges, mode, cache', async () => {
    const user = await registerUser(system.gatewayUrl, 'metrics');
    await call(system.gatewayUrl, 'GET', '/api/v1/clients', { token: user.accessToken });
    await call(system.gatewayUrl, 'GET', '/api/v1/clients/00000000-0000-4000-8000-000000000000', {
      token: user.accessToken,
    });
    // Requests are spread across the client replicas: read them all.
    const text = (
      await Promise.all(system.replicas.client.map(({ app }) => app.inject({ method: 'GET', url: '/metrics' })))
    )
      .map((response) => response.body)
      .join('\n');
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/api\/v1\/clients",status_code="200",service="client"\} \d+/,
    );
    expect(text).toContain('route="/api/v1/clients/:id",status_code="404"');
    expect(text).toContain('http_request_duration_seconds_bucket');
    expect(text).toMatch(/db_pool_connections\{state="total",service="client"\} \d+/);
    expect(text).toMatch(/db_pool_connections\{state="waiting",service="client"\} 0/);
    expect(text).toContain('db_pool_mode{mode="transaction",service="client"} 1');
    expect(text).toMatch(/cache_operations\{result="miss",service="client"\} [1-9]/);
    expect(text).toContain('db_pool_acquire_timeouts_total');
  });

  test('acquire timeouts are counted', async () => {
    const worker = await buildClientWorker({
      config: testConfig('client', { DB_POOL_SIZE: '1', DB_POOL_TIMEOUT: '0.2', CACHE_ENABLED: 'false' }),
      keys: { publicKey: testKeys.publicKey },
    });
    const held = await worker.db.pool.connect();
    try {
      const { token } = await createTestSession('acquiretimeout');
      const response = await worker.inject({
        method: 'GET',
        url: '/api/v1/clients',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode).toBe(503);
      const status = (await worker.inject({ method: 'GET', url: '/status' })).json();
      expect(status.acquireTimeouts).toBe(1);
      expect(status.pool).toEqual({ total: 1, idle: 0, waiting: 0 });
      expect((await worker.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
        /db_pool_acquire_timeouts_total\{service="client"\} 1/,
      );
    } finally {
      held.release();
      await worker.close();
    }
  });
});

/**
 * Starting a second system in this process can stall the event loop past the main gateway's probe
 * timeout on a slow machine (CI saw it once), and a probe that times out ejects a replica for a
 * back-off. The tests after it describe the main system at rest, so they start once it is back.
 */
async function untilEveryReplicaInRotation(gatewayUrl: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await call(gatewayUrl, 'GET', '/status.json');
    const instances = (status.body.services as { instances: { state: string }[] }[]).flatMap((s) => s.instances);
    if (instances.every((instance) => instance.state === 'in rotation')) return;
    if (Date.now() > deadline) throw new Error(`replicas still out of rotation: ${JSON.stringify(instances)}`);
    await Bun.sleep(200);
  }
}

describe('gateway', () => {
  test('ready only when every worker is ready', async () => {
    const ready = await call(system.gatewayUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.workers).toEqual({ auth: 'ready', user: 'ready', client: 'ready' });

    const partial = await startSystem();
    await partial.apps.user.close();
    try {
      const notReady = await call(partial.gatewayUrl, 'GET', '/health/ready');
      expect(notReady.status).toBe(503);
      expect(notReady.body.code).toBe('NOT_READY');
      expect(notReady.body.message).toContain('user unreachable');
    } finally {
      await partial.close().catch(() => {});
      await untilEveryReplicaInRotation(system.gatewayUrl);
    }
  });

  test('/status.json shows each service’s mode, pool and cache, and the budget', async () => {
    const status = await call(system.gatewayUrl, 'GET', '/status.json');
    expect(status.status).toBe(200);
    const client = status.body.services.find((service: { service: string }) => service.service === 'client');
    expect(client).toMatchObject({
      mode: 'transaction',
      poolSize: 2,
      replicas: 3,
      reachable: true,
      cache: { kind: 'redis' },
    });
    // Counted from the replicas actually running, each reporting its own pool.
    expect(status.body.budget).toEqual({ used: 2 + 2 + 2 * 3, headroom: 3, connections: 15 });
    expect(client.instances).toHaveLength(3);
    const addresses = system.replicas.client.map((replica) => replica.url);
    for (const instance of client.instances) {
      expect(addresses).toContain(instance.address);
      expect(instance).toMatchObject({ state: 'in rotation', reachable: true, poolSize: 2, inFlight: 0 });
    }
  });

  test('the upstream metrics carry a replica label', async () => {
    const user = await registerUser(system.gatewayUrl, 'metrics');
    for (let i = 0; i < 6; i++) {
      // no-cache: answered by a replica, not by the gateway's edge cache
      const headers = { 'cache-control': 'no-cache' };
      await call(system.gatewayUrl, 'GET', '/api/v1/clients', { token: user.accessToken, headers });
    }
    const metrics = (await call(system.gatewayUrl, 'GET', '/metrics')).body as string;
    for (const replica of system.replicas.client) {
      expect(metrics).toContain(
        `gateway_upstream_attempts_total{upstream="client",replica="${replica.url}",outcome="200"`,
      );
    }
  });

  test('/metrics, /docs and /status answer', async () => {
    expect((await call(system.gatewayUrl, 'GET', '/metrics')).body).toContain('http_requests_total');
    const docs = await fetch(`${system.gatewayUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');
    const page = await fetch(`${system.gatewayUrl}/status`);
    expect(page.headers.get('content-type')).toContain('text/html');
  });
});
