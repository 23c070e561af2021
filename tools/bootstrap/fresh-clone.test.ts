// "Two commands on a fresh clone", proven on one: the repository's tracked files copied to an empty
// folder (no node_modules, no generated client), where `bun test` alone installs, generates, runs the
// tests in a fresh process and passes (the second run does no set-up at all), and where `bun run dev`
// alone does the same, starts the whole system, and stops cleanly on Ctrl-C.
import { afterAll, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { findPortsToBindLater, stopChild } from '../stack/processes.ts';
import { watchOutput } from '../testing/watch-output.ts';

const clone = mkdtempSync(join(tmpdir(), 'poolwise-fresh-clone-'));
// Readable by all, like a clone in a home folder: as root, the embedded PostgreSQL runs its binaries
// (in node_modules) as an unprivileged user.
chmodSync(clone, 0o755);
let devRunner: ReturnType<typeof spawn> | undefined;
afterAll(async () => {
  if (devRunner) await stopChild(devRunner, 'SIGINT', 15_000);
  rmSync(clone, { recursive: true, force: true });
});

function copyTrackedFiles(): void {
  const listed = Bun.spawnSync(['git', 'ls-files', '-z'], { cwd: REPOSITORY_ROOT });
  if (listed.exitCode !== 0) throw new Error(`git ls-files failed: ${listed.stderr.toString()}`);
  for (const file of listed.stdout.toString().split('\0').filter(Boolean)) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(REPOSITORY_ROOT, file), join(clone, file));
  }
}

const bunTest = () => {
  const result = Bun.spawnSync(['bun', 'test', 'tools/bootstrap/install-state.test.ts'], {
    cwd: clone,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
  });
  return { exitCode: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
};

test('on a fresh clone `bun test` sets everything up itself, then runs quickly with nothing to do', () => {
  copyTrackedFiles();
  const first = bunTest();
  expect(first.output).toContain('setup: no node_modules (a fresh clone): bun install');
  expect(first.output).toContain('Generated Prisma Client');
  expect(first.output).toContain('again in a fresh process');
  expect(first.output).toMatch(/ 5 pass\n/);
  expect(first.exitCode).toBe(0);

  const second = bunTest();
  expect(second.output).not.toContain('setup:');
  expect(second.output).toMatch(/ 5 pass\n/);
  expect(second.exitCode).toBe(0);
}, 120_000);

test('on a fresh clone `bun run dev` sets everything up itself, starts the system and stops on Ctrl-C', async () => {
  rmSync(join(clone, 'node_modules'), { recursive: true, force: true });
  rmSync(join(clone, 'shared/generated'), { recursive: true, force: true });
  // The runner binds these only after it has set up its database: ports no connection can take meanwhile.
  const [gateway, auth, user, client] = (await findPortsToBindLater(4)) as [number, number, number, number];
  devRunner = spawn('bun', ['run', 'dev'], {
    cwd: clone,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      DEV_DATA_DIR: join(clone, '.data'),
      GATEWAY_PORT: String(gateway),
      AUTH_PORT: String(auth),
      USER_PORT: String(user),
      CLIENT_PORT: String(client),
      LOG_PRETTY: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { waitFor, text } = watchOutput(devRunner);
  await waitFor(/setup: no node_modules \(a fresh clone\): bun install/, 10_000);
  await waitFor(new RegExp(`Gateway listening at http://127\\.0\\.0\\.1:${gateway}`), 90_000);
  let ready = 0;
  for (let attempt = 0; attempt < 50 && ready !== 200; attempt++) {
    ready = (await fetch(`http://127.0.0.1:${gateway}/health/ready`)).status;
    if (ready !== 200) await Bun.sleep(200);
  }
  expect(ready).toBe(200);
  expect(text()).toContain('again in a fresh process');

  const exited = new Promise<number | null>((resolve) => devRunner?.once('exit', (code) => resolve(code)));
  devRunner.kill('SIGINT');
  expect(await exited).toBe(0);
  devRunner = undefined;
  expect(text()).toContain('Stopped.');
}, 150_000);
