// The repository's layout rule, executable: services and the code they share never import tooling
// (imports run tools → shared, never back), and shared/ holds only what a service really imports.
import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Glob } from 'bun';
import { REPOSITORY_ROOT } from '../shared/env.ts';

const transpiler = new Bun.Transpiler({ loader: 'ts' });
const isTest = (file: string) => file.endsWith('.test.ts');

function sourceFiles(folder: string): string[] {
  return [...new Glob(`${folder}/**/*.ts`).scanSync({ cwd: REPOSITORY_ROOT })].filter(
    (file) => !file.includes('/generated/'),
  );
}

/** Relative imports of one file, as repository paths. */
function localImports(file: string): string[] {
  const source = readFileSync(resolve(REPOSITORY_ROOT, file), 'utf8');
  return transpiler
    .scanImports(source)
    .map((entry) => entry.path)
    .filter((path) => path.startsWith('.'))
    .map((path) => relative(REPOSITORY_ROOT, resolve(REPOSITORY_ROOT, dirname(file), path)));
}

describe('layout', () => {
  test('services and shared code never import from tools/', () => {
    const offenders = ['gateway', 'workers', 'shared']
      .flatMap(sourceFiles)
      .filter((file) => !isTest(file))
      .flatMap((file) =>
        localImports(file)
          .filter((path) => path.startsWith('tools/'))
          .map((path) => `${file} → ${path}`),
      );
    expect(offenders).toEqual([]);
  });

  test('every module in shared/ is imported, directly or not, by a service', () => {
    const entries = ['gateway/server.ts', ...sourceFiles('workers').filter((file) => file.endsWith('/server.ts'))];
    const reached = new Set<string>();
    const queue = [...entries];
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (reached.has(file) || !existsSync(resolve(REPOSITORY_ROOT, file))) continue;
      reached.add(file);
      queue.push(...localImports(file));
    }
    const unused = sourceFiles('shared').filter((file) => !isTest(file) && !reached.has(file));
    expect(unused).toEqual([]);
  });
});
