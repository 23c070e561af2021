// `bun run dev`: the gateway and the three workers as separate processes with prefixed logs, against
// the configured database or an embedded one (see database-for-dev.ts). Ctrl-C stops everything.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, loadToolConfig, REPOSITORY_ROOT } from '../../shared/env.ts';
import { resolveJwtKeys } from '../../shared/jwt-keys.ts';
import { stopChild } from '../stack/processes.ts';
import { prepareDevDatabase } from './database-for-dev.ts';

const SERVICES = [
  { name: 'auth', entry: 'workers/auth/server.ts', color: 35 },
  { name: 'user', entry: 'workers/user/server.ts', color: 36 },
  { name: 'client', entry: 'workers/client/server.ts', color: 33 },
  { name: 'gateway', entry: 'gateway/server.ts', color: 32 },
] as const;

const prefix = (name: string, color: number) => `\x1b[${color}m[${name.padEnd(7)}]\x1b[0m`;
const say = (line: string) => console.log(`${prefix('dev', 1)} ${line}`);

let config: ReturnType<typeof loadToolConfig>['config'];
try {
  config = loadToolConfig().config;
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  throw error;
}

const database = await prepareDevDatabase(config, say);
// Generate the development key pair once, before four processes race to create it.
resolveJwtKeys(config, { needPrivateKey: true });
if (database.fresh) {
  const seeded = Bun.spawnSync(['bun', '--no-env-file', join(REPOSITORY_ROOT, 'prisma/seed.ts')], {
    env: { ...process.env, ...database.env },
    stdout: 'inherit',
    stderr: 'inherit',
  });
  if (seeded.exitCode !== 0) say('Seeding failed; the services start anyway.');
}

const children = new Map<string, ChildProcess>();
let stopping = false;

async function stopEverything(exitCode: number) {
  if (stopping) return;
  stopping = true;
  say('Stopping the services...');
  await Promise.all([...children.values()].map((child) => stopChild(child, 'SIGTERM', 12_000)));
  await database.stop();
  say('Stopped.');
  process.exit(exitCode);
}

for (const service of SERVICES) {
  const child = spawn('bun', ['--no-env-file', join(REPOSITORY_ROOT, service.entry)], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, ...database.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(service.name, child);
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) =>
      console.log(`${prefix(service.name, service.color)} ${line}`),
    );
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${service.name} exited (${signal ?? `code ${code}`}); stopping the rest.`);
    void stopEverything(1);
  });
}

say(`Gateway: http://127.0.0.1:${config.GATEWAY_PORT} (Ctrl-C stops everything)`);
process.on('SIGINT', () => void stopEverything(0));
process.on('SIGTERM', () => void stopEverything(0));
