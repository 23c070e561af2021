// One service (a worker's or the gateway's server.ts) as its own process, for the bench and the fault
// suite: started on a port of its own, and for faults killed and started again on that same port.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { collectOutput, findFreePort, stopChild, waitForPort } from './processes.ts';

export interface ServiceProcess {
  url: string;
  port: number;
  /** The running process (a new one after restart()). */
  readonly process: ChildProcess;
  /** What it printed lately, for error messages. */
  output(): string;
  /** Starts it again on the same port with the same environment (after kill()). */
  restart(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/**
 * The variable a service's port is given in, from the folders its entry sits in (`gateway/…`,
 * `workers/<name>/…`), wherever the checkout is: an absolute entry's leading folders say nothing.
 */
export function portKeyOf(entry: string): string {
  const worker = /(?:^|\/)workers\/([\w-]+)\/[^/]+$/.exec(entry)?.[1];
  if (worker) return `${worker.toUpperCase()}_PORT`;
  if (/(?:^|\/)gateway\/[^/]+$/.test(entry)) return 'GATEWAY_PORT';
  throw new Error(`no port variable is known for ${entry}: pass portKey`);
}

/**
 * Starts `entry` (relative to the repository, or absolute: another checkout's) with exactly `env`
 * (plus PATH and HOME) and waits until its port listens.
 */
export async function startServiceProcess(
  entry: string,
  env: Record<string, string>,
  /** `portKey`: the variable its port is given in, when its path does not say (a bench-only worker). */
  options: { port?: number; startTimeoutMs?: number; portKey?: string } = {},
): Promise<ServiceProcess> {
  const port = options.port ?? (await findFreePort());
  const portKey = options.portKey ?? portKeyOf(entry);
  let child: ChildProcess;
  let output: () => string = () => '';
  const launch = async () => {
    const started = spawn('bun', ['--no-env-file', resolve(REPOSITORY_ROOT, entry)], {
      cwd: REPOSITORY_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        ...env,
        [portKey]: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    output = collectOutput(started);
    try {
      await waitForPort(port, entry, options.startTimeoutMs ?? 20_000, started);
    } catch (error) {
      await stopChild(started);
      throw new Error(`${(error as Error).message}\n${output()}`);
    }
  };
  await launch();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get process() {
      return child;
    },
    output: () => output(),
    restart: launch,
    kill: (signal) => child.kill(signal),
    stop: () => stopChild(child, 'SIGTERM', 5_000),
  };
}
