// Starts a throwaway redis-server (no persistence) for tests and local development.
import { spawn } from 'node:child_process';
import { collectOutput, findBinary, findFreePort, stopChild, waitForPort } from './processes.ts';

export interface RunningRedis {
  port: number;
  /** The redis-server process's id. */
  pid: number | undefined;
  url: string;
  /** Pauses the process (SIGSTOP): Redis stops answering but keeps its connections open. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** Enough for any test's working set; the cache-bounds test overfills it on purpose. */
export const TEST_REDIS_MAXMEMORY = '64mb';

export async function startRedis(port?: number): Promise<RunningRedis> {
  const binary = findBinary('redis-server');
  if (!binary) throw new Error('redis-server is not installed (Debian: apt-get install redis-server)');
  const chosen = port ?? (await findFreePort());
  const child = spawn(
    binary,
    [
      ...['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      // Bounded like compose.yaml's: a cache evicts its least recently used keys instead of growing.
      ...['--maxmemory', TEST_REDIS_MAXMEMORY, '--maxmemory-policy', 'allkeys-lru'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Whatever ends this process (a failed test run that never reached its cleanup, an exit hook of
  // another library) takes its redis-server along, instead of leaving it running for good.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const output = collectOutput(child);
  try {
    await waitForPort(chosen, 'redis-server', 10_000, child);
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}\n${output()}`);
  }
  return {
    port: chosen,
    pid: child.pid,
    url: `redis://127.0.0.1:${chosen}`,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      child.kill('SIGCONT');
      await stopChild(child, 'SIGTERM');
    },
  };
}
