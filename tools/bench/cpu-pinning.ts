// Keeps the load generator off the servers' cores, so a ratio measures the servers and not how the
// scheduler happened to share two cores between autocannon and them (#15 item 4).
//
// How, without touching every place that starts a process: Linux children inherit their parent's CPU
// affinity. The bench process sits on the server cores while it starts things (so PostgreSQL,
// PgBouncer, Redis, the services and the peers all land there) and moves itself, every thread, to
// the load core only while autocannon drives load (runLoad in load.ts).
import { availableParallelism } from 'node:os';

export interface CpuPlan {
  loadCores: string;
  serverCores: string;
}

let plan: CpuPlan | undefined;

function setAffinity(cores: string): boolean {
  const taskset = Bun.which('taskset') ?? '/usr/bin/taskset';
  const run = Bun.spawnSync([taskset, '--all-tasks', '--cpu-list', '--pid', cores, String(process.pid)], {
    stdout: 'ignore',
    stderr: 'pipe',
  });
  return run.exitCode === 0;
}

/** Core 0 for the load, the rest for the servers; undefined on one core or without taskset. */
export function pinBenchProcess(): CpuPlan | undefined {
  const cores = availableParallelism();
  if (cores < 2 || !Bun.which('taskset')) return undefined;
  const wanted = { loadCores: '0', serverCores: cores === 2 ? '1' : `1-${cores - 1}` };
  if (!setAffinity(wanted.serverCores)) return undefined;
  plan = wanted;
  return plan;
}

/** Runs `work` (the load) on the load core; processes started meanwhile would land there too. */
export async function onLoadCore<T>(work: () => Promise<T>): Promise<T> {
  if (!plan) return work();
  setAffinity(plan.loadCores);
  try {
    return await work();
  } finally {
    setAffinity(plan.serverCores);
  }
}
