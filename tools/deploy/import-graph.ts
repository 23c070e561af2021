// What a set of entry files pulls in when it runs: every local file reached through run-time imports
// (type-only imports are erased by the transpiler) and every package named on the way.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';

const transpiler = new Bun.Transpiler({ loader: 'ts' });

/** `@scope/name/sub/path` → `@scope/name`, `name/sub` → `name`. */
export const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const isBuiltin = (specifier: string) =>
  specifier.startsWith('node:') || specifier === 'bun' || specifier.startsWith('bun:');

/** Repository paths of the files reached from `entries`, and the packages they import (→ first importer). */
export function runtimeImportGraph(entries: string[]): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file) || !existsSync(resolve(REPOSITORY_ROOT, file))) continue;
    files.add(file);
    for (const { path } of transpiler.scanImports(readFileSync(resolve(REPOSITORY_ROOT, file), 'utf8'))) {
      if (path.startsWith('.')) queue.push(relative(REPOSITORY_ROOT, resolve(REPOSITORY_ROOT, dirname(file), path)));
      else if (!isBuiltin(path) && !packages.has(packageOf(path))) packages.set(packageOf(path), file);
    }
  }
  return { files, packages };
}
