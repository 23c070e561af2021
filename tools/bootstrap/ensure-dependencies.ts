// Makes `bun run dev` and `bun test` all the set-up a fresh clone needs: installs the dependencies
// and generates the Prisma client when they are missing or stale, and costs a few file reads when
// nothing changed. Imports node's modules only: nothing else exists yet on a fresh clone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { generateFingerprint, type InstallInputs, installFingerprint, setupSteps } from './install-state.ts';

const root = resolve(import.meta.dir, '../..');
const INSTALL_STAMP = join(root, 'node_modules', '.poolwise-installed');
const GENERATE_STAMP = join(root, 'shared', 'generated', '.poolwise-generated');
const GENERATED_CLIENT = join(root, 'shared', 'generated', 'prisma', 'client.ts');

const readIfPresent = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
const write = (path: string, text: string) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};

function run(command: string[]): void {
  const result = spawnSync(command[0] as string, command.slice(1), { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(
      `setup: \`${command.join(' ')}\` failed (exit ${result.status ?? result.signal}); fix that and run again.`,
    );
    process.exit(result.status ?? 1);
  }
}

/** Runs what is missing or stale; returns true when it had to do anything. */
export function ensureDependencies(): boolean {
  const inputs: InstallInputs = {
    packageJson: readFileSync(join(root, 'package.json'), 'utf8'),
    lockfile: readIfPresent(join(root, 'bun.lock')) ?? '',
    prismaSchema: readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8'),
  };
  const { steps, reason } = setupSteps(
    inputs,
    { installed: readIfPresent(INSTALL_STAMP), generated: readIfPresent(GENERATE_STAMP) },
    { nodeModules: existsSync(join(root, 'node_modules')), generatedClient: existsSync(GENERATED_CLIENT) },
  );
  if (steps.length === 0) return false;
  // stderr, so a command whose output is read (e.g. doctor --json) is never disturbed.
  console.error(`setup: ${reason}: ${steps.includes('install') ? 'bun install' : 'prisma generate'}`);
  // `bun install` runs the postinstall generator (db:generate) as well.
  run(steps.includes('install') ? [process.execPath, 'install'] : [process.execPath, 'run', 'db:generate']);
  write(INSTALL_STAMP, installFingerprint(inputs));
  write(GENERATE_STAMP, generateFingerprint(inputs));
  return true;
}
