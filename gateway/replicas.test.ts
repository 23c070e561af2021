// Several client-worker replicas behind one gateway, on the real stack: both serve, one that dies is
// ejected while GETs keep succeeding, it rejoins when it is back on its address, and a rolling
// restart (not ready → drained → closed → replacement ready, one replica at a time) under steady
// load fails no request at all.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { FastifyInstance } from 'fastify';
import { call, type RunningSystem, registerUser, startSystem, startWorker } from '../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let token: string;
beforeAll(async () => {
  system = await startSystem({}, { replicas: { client: 2 } });
  token = (await registerUser(system.gatewayUrl, 'replicas')).accessToken;
});
afterAll(async () => {
  await system?.close();
});

const portOf = (url: string) => Number(new URL(url).port);
const replicaStates = async () =>
  (await call(system.gatewayUrl, 'GET', '/status.json')).body.services
    .find((service: { service: string }) => service.service === 'client')
    .instances.map((instance: { address: string; state: string }) => `${instance.address} ${instance.state}`);

/** Steady load: `workers` loops of GET list + POST create until stopped; every answer is tallied. */
function steadyLoad(workers = 4) {
  const outcomes: Record<string, number> = {};
  let running = true;
  const loops = Array.from({ length: workers }, async (_, index) => {
    for (let i = 0; running; i++) {
      const write = i % 4 === 0;
      const response = write
        ? await call(system.gatewayUrl, 'POST', '/api/v1/clients', { token, body: { name: `Load ${index}-${i}` } })
        : await call(system.gatewayUrl, 'GET', '/api/v1/clients?limit=5', {
            token,
            headers: { 'cache-control': 'no-cache' },
          });
      const key = `${write ? 'POST' : 'GET'} ${response.status}${response.status >= 400 ? ` ${response.body?.code}` : ''}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** Replaces system.replicas.client[index] with a fresh worker on the same address. */
async function replaceReplica(index: number): Promise<FastifyInstance> {
  const replica = system.replicas.client[index];
  if (!replica) throw new Error(`no replica ${index}`);
  const fresh = await startWorker('client');
  await fresh.listen({ host: '127.0.0.1', port: portOf(replica.url) });
  replica.app = fresh;
  return fresh;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describe('client-worker replicas behind the gateway', () => {
  test('both replicas serve traffic', async () => {
    expect(system.replicas.client).toHaveLength(2);
    const load = steadyLoad(4);
    await Bun.sleep(1_500);
    const outcomes = await load.stop();
    expect(Object.keys(outcomes).filter((key) => !key.endsWith(' 200') && !key.endsWith(' 201'))).toEqual([]);
    const metrics = (await call(system.gatewayUrl, 'GET', '/metrics')).body as string;
    for (const replica of system.replicas.client) {
      const served = new RegExp(
        `gateway_upstream_attempts_total\\{upstream="client",replica="${replica.url}",outcome="200"[^}]*\\} (\\d+)`,
      );
      expect(Number(served.exec(metrics)?.[1] ?? 0), replica.url).toBeGreaterThan(5);
    }
  });

  test('a replica that dies is ejected, GETs keep succeeding, and it rejoins on its address without a restart', async () => {
    const victim = system.replicas.client[1];
    if (!victim) throw new Error('two replicas expected');
    const load = steadyLoad(4);
    await Bun.sleep(300);
    await victim.app.close(); // its port now refuses connections
    await waitFor(async () => (await replicaStates()).includes(`${victim.url} ejected`), 5_000, 'ejection');
    await Bun.sleep(500);
    await replaceReplica(1);
    const rejoinStarted = Date.now();
    await waitFor(async () => (await replicaStates()).includes(`${victim.url} in rotation`), 10_000, 'rejoin');
    const rejoinMs = Date.now() - rejoinStarted;
    const outcomes = await load.stop();
    console.log(
      `[replicas] a replica died under load: ${JSON.stringify(outcomes)}; rejoined ${rejoinMs} ms after it was back`,
    );
    // A refused GET is retried on the other replica: no GET fails. A create that was in flight on
    // the replica at the instant it closed may fail; nothing else may.
    expect(Object.keys(outcomes).filter((key) => key.startsWith('GET') && !key.endsWith(' 200'))).toEqual([]);
    const failedCreates = Object.entries(outcomes)
      .filter(([key]) => key.startsWith('POST') && !key.endsWith(' 201'))
      .reduce((sum, [, count]) => sum + count, 0);
    expect(failedCreates).toBeLessThanOrEqual(4); // at most one in flight per load loop
  }, 30_000);

  test('a rolling restart under steady load fails no request', async () => {
    const load = steadyLoad(4);
    await Bun.sleep(300);
    for (let index = 0; index < system.replicas.client.length; index++) {
      const replica = system.replicas.client[index];
      if (!replica) continue;
      // What SIGTERM does in run-service.ts: not ready first, keep serving until the gateway has ejected it.
      replica.app.draining = true;
      await waitFor(async () => (await replicaStates()).includes(`${replica.url} ejected`), 5_000, 'ejection');
      await replica.app.close(); // in-flight requests finish
      await replaceReplica(index);
      await waitFor(async () => (await replicaStates()).includes(`${replica.url} in rotation`), 10_000, 'replacement');
    }
    const outcomes = await load.stop();
    console.log(`[replicas] rolling restart under load: ${JSON.stringify(outcomes)}`);
    expect(Object.keys(outcomes).filter((key) => !key.endsWith(' 200') && !key.endsWith(' 201'))).toEqual([]);
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
  }, 60_000);
});
