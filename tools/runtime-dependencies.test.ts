// Review issue 11, finding 11: every package a service imports at run time must be a runtime
// dependency. fast-jwt (the gateway's token check) was declared only as a development dependency, so
// a production install (`bun install --production`) would have left the gateway unable to start.
import { expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Glob } from 'bun';
import { REPOSITORY_ROOT } from '../shared/env.ts';

const transpiler = new Bun.Transpiler({ loader: 'ts' });

/** `@scope/name/sub/path` → `@scope/name`, `name/sub` → `name`. */
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const isBuiltin = (specifier: string) =>
  specifier.startsWith('node:') || specifier === 'bun' || specifier.startsWith('bun:');

test('what the services import at run time is declared in dependencies, not devDependencies', () => {
  const manifest = JSON.parse(readFileSync(resolve(REPOSITORY_ROOT, 'package.json'), 'utf8'));
  const runtime = new Set(Object.keys(manifest.dependencies ?? {}));
  const entries = ['gateway/server.ts', ...[...new Glob('workers/*/server.ts').scanSync({ cwd: REPOSITORY_ROOT })]];
  const reached = new Set<string>();
  const packages = new Map<string, string>(); // package → first file importing it
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (reached.has(file) || !existsSync(resolve(REPOSITORY_ROOT, file))) continue;
    reached.add(file);
    // Type-only imports are erased by the transpiler, so only run-time imports are listed here.
    for (const { path } of transpiler.scanImports(readFileSync(resolve(REPOSITORY_ROOT, file), 'utf8'))) {
      if (path.startsWith('.')) queue.push(relative(REPOSITORY_ROOT, resolve(REPOSITORY_ROOT, dirname(file), path)));
      else if (!isBuiltin(path) && !packages.has(packageOf(path))) packages.set(packageOf(path), file);
    }
  }
  expect(packages.size).toBeGreaterThan(5); // the walk really found the services' imports
  const undeclared = [...packages].filter(([name]) => !runtime.has(name)).map(([name, file]) => `${name} (${file})`);
  expect(undeclared).toEqual([]);
});
