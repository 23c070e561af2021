// Bun loads `.env` from the current directory on its own. Our bunfig.toml files switch that off, so
// shared/env.ts's three layers are the only ones, even for a service started from its own folder.
import { afterAll, describe, expect, test } from 'bun:test';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './env.ts';
import { SERVICES } from './services.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function probeFrom(bunfigSource: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'poolwise-bunenv-'));
  dirs.push(dir);
  if (bunfigSource) copyFileSync(bunfigSource, join(dir, 'bunfig.toml'));
  writeFileSync(join(dir, '.env'), 'POOLWISE_HIDDEN_LAYER=loaded\n');
  const result = Bun.spawnSync(['bun', '-e', 'console.log(process.env.POOLWISE_HIDDEN_LAYER ?? "absent")'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
  });
  return result.stdout.toString().trim();
}

describe('Bun’s automatic .env loading', () => {
  test('is real without our bunfig (the trap exists)', () => {
    expect(probeFrom(undefined)).toBe('loaded');
  });

  test.each(['.', ...Object.values(SERVICES).map((service) => service.dir)])('is off when started from %s', (dir) => {
    expect(probeFrom(join(REPOSITORY_ROOT, dir, 'bunfig.toml'))).toBe('absent');
  });
});
