// `bun run dev` as a newcomer runs it: nothing configured, so it starts an embedded PostgreSQL with
// PgBouncer in front, migrates, seeds, starts four processes; the walking slice works through the
// gateway; Ctrl-C (SIGINT) stops everything and exits 0.
import { afterAll, describe, expect, test } from 'bun:test';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { findPortsToBindLater, isPortOpen, stopChild } from '../stack/processes.ts';
import { call } from '../testing/running-system.ts';
import { watchOutput } from '../testing/watch-output.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'poolwise-dev-'));
let runner: ChildProcess | undefined;
afterAll(async () => {
  if (runner) await stopChild(runner, 'SIGINT', 15_000);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('bun run dev', () => {
  test('starts the whole system from nothing, serves the walking slice, and stops cleanly on Ctrl-C', async () => {
    // The runner binds these only after it has set up its database: ports no connection can take meanwhile.
    const [gateway, auth, user, client] = (await findPortsToBindLater(4)) as [number, number, number, number];
    runner = spawn('bun', ['run', 'dev'], {
      cwd: REPOSITORY_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        DEV_DATA_DIR: dataDir,
        GATEWAY_PORT: String(gateway),
        AUTH_PORT: String(auth),
        USER_PORT: String(user),
        CLIENT_PORT: String(client),
        LOG_PRETTY: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watched = watchOutput(runner);
    const { waitFor } = watched;
    // All four services up: the gateway and three workers listening, each worker saying its mode.
    for (const port of [gateway, auth, user, client]) {
      await waitFor(new RegExp(`(Server|Gateway) listening at http://127\\.0\\.0\\.1:${port}`), 60_000);
    }
    for (const service of ['AuthService', 'UserService', 'ClientService']) {
      await waitFor(new RegExp(`\\[${service}\\] Using TRANSACTION POOLER \\(PgBouncer\\) connection`), 1_000);
    }

    const base = `http://127.0.0.1:${gateway}`;
    const login = await call(base, 'POST', '/api/v1/auth/login', {
      body: { email: 'demo@poolwise.local', password: 'dev-only-demo-password' },
    });
    expect(login.status).toBe(200);
    const list = await call(base, 'GET', '/api/v1/clients?page=1&limit=20', { token: login.body.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.meta.total).toBe(25);

    // Redis runs as in production (redis-server is installed here): the repeated page comes from the
    // gateway's edge cache, which exists only with Redis.
    expect(watched.text()).toMatch(/Redis \(a cache only: bounded, no persistence\) listens on 127\.0\.0\.1:\d+/);
    let edgeHit = false;
    for (let attempt = 0; attempt < 20 && !edgeHit; attempt++) {
      const again = await call(base, 'GET', '/api/v1/clients?page=1&limit=20', { token: login.body.accessToken });
      edgeHit = again.headers.get('x-cache') === 'hit';
      if (!edgeHit) await Bun.sleep(100);
    }
    expect(edgeHit).toBe(true);

    const exited = new Promise<number | null>((resolve) => runner?.once('exit', (code) => resolve(code)));
    runner.kill('SIGINT');
    expect(await exited).toBe(0);
    runner = undefined;
    for (const port of [gateway, auth, user, client]) expect(await isPortOpen(port)).toBe(false);
  }, 90_000);
});
