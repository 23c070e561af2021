// A throw-away repository root holding only configuration files (`.env`, `workers/x/.env`), for tests
// of layered configuration and the doctor. removeConfigFixtures() deletes every one made.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const roots: string[] = [];

export function configFixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'poolwise-config-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

export function removeConfigFixtures(): void {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
}
