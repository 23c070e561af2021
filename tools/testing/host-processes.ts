// Real processes on the hosts of a multi-host test (network-namespaces.ts): each runs a Bun script of
// this repository inside a host's namespace with exactly the environment given (nothing inherited
// from the developer's shell but PATH and HOME), and keeps its output so the test can wait for a line
// and quote the last ones when something goes wrong.
//
// The test's own helper scripts (database-host.ts, steady-load.ts, namespace-relay.ts) stop when their
// standard input ends: the test closes it to stop them, and if the test process dies, the kernel closes
// it for them, so a crashed run's hosts clean up after themselves. Services stop on SIGTERM as in
// production.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { stopChild } from '../stack/processes.ts';

export interface HostProcess {
  label: string;
  child: ChildProcess;
  /** Every stdout line so far (JSON protocols read these). */
  lines: string[];
  /** Resolves with the first line (past or future) that satisfies `match`. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** The last lines of stdout and stderr, for a failure message. */
  tail(count?: number): string;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;

function exitedWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export function startInHost(
  label: string,
  prefix: string[],
  script: string,
  env: Record<string, string>,
  options: { stopWith?: 'end-of-input' | 'SIGTERM' } = {},
): HostProcess {
  const stopWith = options.stopWith ?? 'SIGTERM';
  const [command, ...args] = [...prefix, 'bun', '--no-env-file', join(REPOSITORY_ROOT, script)];
  const child = spawn(command as string, args, {
    cwd: REPOSITORY_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: [stopWith === 'end-of-input' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const everything: string[] = [];
  const waiters = new Set<(line: string) => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    everything.push(line);
    for (const waiter of waiters) waiter(line);
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => everything.push(line));
  const tail = (count = 30) => everything.slice(-count).join('\n');
  return {
    label,
    child,
    lines,
    tail,
    waitForLine(match, timeoutMs) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`${label} has exited (${child.exitCode ?? child.signalCode}):\n${tail()}`));
      }
      return new Promise((resolve, reject) => {
        const done = (error?: Error, line?: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', exited);
          if (error) reject(error);
          else resolve(line as string);
        };
        const check = (line: string) => match(line) && done(undefined, line);
        const exited = () => done(new Error(`${label} exited (${child.exitCode ?? child.signalCode}):\n${tail()}`));
        const timer = setTimeout(
          () => done(new Error(`${label}: no expected line within ${timeoutMs} ms:\n${tail()}`)),
          timeoutMs,
        );
        waiters.add(check);
        child.once('exit', exited);
      });
    },
    async stop() {
      if (stopWith === 'end-of-input') {
        child.stdin?.end();
        if (await exitedWithin(child, STOP_GRACE_MS)) return;
      }
      await stopChild(child, 'SIGTERM', STOP_GRACE_MS);
    },
  };
}
