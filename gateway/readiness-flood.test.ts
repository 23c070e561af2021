// The gateway's aggregate readiness asks every replica of every worker; a flood of it must not turn
// into a flood at the workers (and their two-connection pools). On the real stack: the workers'
// own request counters and their pools' `acquire` events say what reached them.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { call, type RunningSystem, startSystem } from '../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
const acquired: Record<string, number> = {};
beforeAll(async () => {
  system = await startSystem();
  for (const [name, app] of Object.entries(system.apps)) {
    acquired[name] = 0;
    app.db.pool.on('acquire', () => {
      acquired[name] = (acquired[name] ?? 0) + 1;
    });
  }
});
afterAll(async () => {
  await system?.close();
});

/** /health/ready requests a worker has answered, from its own metrics. */
async function readinessRequestsSeen(): Promise<Record<string, number>> {
  const entries = await Promise.all(
    Object.entries(system.apps).map(async ([name, app]) => {
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const total = [...text.matchAll(/^http_requests_total\{[^}]*route="\/health\/ready"[^}]*\} (\d+)/gm)]
        .map((match) => Number(match[1]))
        .reduce((sum, count) => sum + count, 0);
      return [name, total] as const;
    }),
  );
  return Object.fromEntries(entries);
}

test('100 concurrent gateway /health/ready reach each worker about once and take about one connection each', async () => {
  const before = await readinessRequestsSeen();
  const acquiredBefore = { ...acquired };
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 100 }, () => call(system.gatewayUrl, 'GET', '/health/ready')));
  const seconds = Math.ceil((Date.now() - started) / 1000);
  expect(answers.every((answer) => answer.status === 200 && answer.body.status === 'ready')).toBe(true);

  const after = await readinessRequestsSeen();
  for (const name of Object.keys(system.apps)) {
    // One aggregate check per interval, plus the replica set's own probe every second.
    expect((after[name] ?? 0) - (before[name] ?? 0)).toBeLessThanOrEqual(2 * (seconds + 1));
    expect((acquired[name] ?? 0) - (acquiredBefore[name] ?? 0)).toBeLessThanOrEqual(seconds + 1);
  }
});
