// A flood of /health/ready must not occupy a worker's pool (two connections by default): readiness
// checks the database at most about once a second however many probes arrive, on the real stack.
// Every `SELECT 1` takes a connection from the worker's pg.Pool, so the pool's `acquire` events count them.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { FastifyInstance } from 'fastify';
import { startWorker } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let worker: FastifyInstance;
let url: string;
let acquired = 0;
beforeAll(async () => {
  worker = await startWorker('client');
  url = await worker.listen({ host: '127.0.0.1', port: 0 });
  worker.db.pool.on('acquire', () => acquired++);
});
afterAll(async () => {
  await worker?.close();
});

const probeReadiness = async () => (await fetch(`${url}/health/ready`)).status;

describe('worker readiness under a flood', () => {
  test('100 concurrent /health/ready take at most one pooled connection', async () => {
    await Bun.sleep(1_100); // whatever start-up checked is older than the interval now
    const before = acquired;
    const statuses = await Promise.all(Array.from({ length: 100 }, probeReadiness));
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(acquired - before).toBeLessThanOrEqual(1);
  });

  test('a steady flood for 3 s checks the database about once a second, and the answer stays fresh', async () => {
    const before = acquired;
    const until = Date.now() + 3_000;
    let answered = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (Date.now() < until) {
          expect(await probeReadiness()).toBe(200);
          answered++;
        }
      }),
    );
    expect(answered).toBeGreaterThan(100);
    const checks = acquired - before;
    expect(checks).toBeGreaterThanOrEqual(2); // not one answer forever: checked again after each interval
    expect(checks).toBeLessThanOrEqual(4);
  });

  test('draining is answered at once, not from the cache', async () => {
    expect(await probeReadiness()).toBe(200);
    worker.draining = true;
    try {
      expect(await probeReadiness()).toBe(503);
    } finally {
      worker.draining = false;
    }
  });
});
