// `bun run dev:roll` as an operator uses it: `bun run dev` with two replicas of every worker, steady
// load through the gateway touching all three workers (reads and writes), then the documented
// command. Every replica is replaced one at a time and not one request fails across the whole roll.
import { afterAll, describe, expect, test } from 'bun:test';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { findPortsToBindLater, stopChild } from '../stack/processes.ts';
import { call } from '../testing/running-system.ts';
import { watchOutput } from '../testing/watch-output.ts';
import { REPLICA_PORT_STRIDE } from './dev-plan.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'poolwise-roll-'));
let runner: ChildProcess | undefined;
afterAll(async () => {
  if (runner) await stopChild(runner, 'SIGINT', 15_000);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('bun run dev:roll', () => {
  test('replaces every worker replica one at a time under steady load with zero failed requests', async () => {
    // Each with its second replica's port (base + 100) free too; only the workers run two.
    const [GATEWAY_PORT, AUTH_PORT, USER_PORT, CLIENT_PORT] = await findPortsToBindLater(4, [REPLICA_PORT_STRIDE]);
    const ports = { GATEWAY_PORT, AUTH_PORT, USER_PORT, CLIENT_PORT };
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      DEV_DATA_DIR: dataDir,
      LOG_PRETTY: 'false',
      AUTH_REPLICAS: '2',
      USER_REPLICAS: '2',
      CLIENT_REPLICAS: '2',
      // The load below comes from one address and one account at a few hundred requests a second:
      // the rate limit and the event-loop overload guard are not what this test is about.
      RATE_LIMIT_MAX: '1000000',
      OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
      ...Object.fromEntries(Object.entries(ports).map(([key, value]) => [key, String(value)])),
    };
    runner = spawn('bun', ['run', 'dev'], { cwd: REPOSITORY_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = watchOutput(runner);
    await output.waitFor(new RegExp(`Gateway listening at http://127\\.0\\.0\\.1:${ports.GATEWAY_PORT}`), 90_000);

    const base = `http://127.0.0.1:${ports.GATEWAY_PORT}`;
    const login = await call(base, 'POST', '/api/v1/auth/login', {
      body: { email: 'demo@poolwise.local', password: 'dev-only-demo-password' },
    });
    expect(login.status).toBe(200);
    const token = login.body.accessToken as string;
    // The budget the runner checked (its PgBouncer's pool of 15) is what /status.json counts the six
    // running replicas' pools (2 each) against.
    const status = await call(base, 'GET', '/status.json');
    expect(status.body.budget).toMatchObject({ used: 12, connections: 15 });

    // Steady load: each loop walks the three workers' reads and a write, so every service is in use.
    const requests = [
      () => call(base, 'GET', '/api/v1/auth/me', { token }),
      () => call(base, 'GET', '/api/v1/users/me', { token }),
      () => call(base, 'GET', '/api/v1/clients?limit=5', { token, headers: { 'cache-control': 'no-cache' } }),
      () => call(base, 'POST', '/api/v1/clients', { token, body: { name: `Roll ${Date.now()}` } }),
    ];
    const outcomes: Record<string, number> = {};
    let running = true;
    const loops = Array.from({ length: 4 }, async (_, loop) => {
      for (let i = loop; running; i++) {
        const request = requests[i % requests.length] as (typeof requests)[number];
        let key: string;
        try {
          const response = await request();
          key = response.status < 400 ? 'ok' : `${response.status} ${response.body?.code}`;
        } catch (error) {
          key = `dropped: ${(error as Error).message}`;
        }
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        await Bun.sleep(5);
      }
    });

    await Bun.sleep(1_000);
    const started = Date.now();
    const rollCommand = spawnSync('bun', ['run', 'dev:roll'], { cwd: REPOSITORY_ROOT, env, encoding: 'utf8' });
    expect(rollCommand.status).toBe(0);
    await output.waitFor(/Rolling restart finished/, 120_000);
    const rollSeconds = (Date.now() - started) / 1000;
    await Bun.sleep(1_000);
    running = false;
    await Promise.all(loops);

    // Every replica of every worker was replaced and back in the gateway's rotation before the next stopped.
    const replaced = output.text().match(/\S+ replaced and back in rotation/g) ?? [];
    expect(replaced.map((line) => line.split(' ')[0]).sort()).toEqual([
      'auth#1',
      'auth#2',
      'client#1',
      'client#2',
      'user#1',
      'user#2',
    ]);
    const total = Object.values(outcomes).reduce((sum, count) => sum + count, 0);
    console.log(
      `dev:roll: ${replaced.length} replicas replaced in ${rollSeconds.toFixed(1)} s; ${total} requests, outcomes ${JSON.stringify(outcomes)}`,
    );
    expect(outcomes).toEqual({ ok: total });
    expect(total).toBeGreaterThan(200);
  }, 240_000);
});
