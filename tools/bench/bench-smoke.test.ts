// `bun run bench --quick` as a smoke test: every scenario's outcome (not its speed) must hold, on the
// real stack the bench starts for itself.
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';

test('bench --quick: incident reproduced, fix holds, scale, cache and gateway scenarios answer', () => {
  const run = Bun.spawnSync(['bun', 'run', 'bench', '--quick'], {
    cwd: REPOSITORY_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const output = `${run.stdout.toString()}\n${run.stderr.toString()}`;
  if (run.exitCode !== 0) console.error(output);
  expect(run.exitCode).toBe(0);
  const report = JSON.parse(readFileSync(join(REPOSITORY_ROOT, '.data', 'bench', 'latest.json'), 'utf8'));
  expect(report.mode).toBe('quick');
  expect(report.checks.length).toBeGreaterThanOrEqual(8);
  expect(report.checks.every((check: { ok: boolean }) => check.ok)).toBe(true);
  // Its time is not asserted (speed belongs to the bench itself): nine scenarios, each starting its
  // own services, take about 150-190 s on a 2-core machine; the limit below only stops a hang.
}, 480_000);
