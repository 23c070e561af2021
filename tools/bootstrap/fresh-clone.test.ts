// "Two commands on a fresh clone", proven on one: the repository's tracked files copied to an empty
// folder (no node_modules, no generated client), where `bun test` alone installs, generates, runs the
// tests in a fresh process and passes; the second run does no set-up at all.
import { afterAll, expect, test } from 'bun:test';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';

const clone = mkdtempSync(join(tmpdir(), 'poolwise-fresh-clone-'));
afterAll(() => rmSync(clone, { recursive: true, force: true }));

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
