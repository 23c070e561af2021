// CPU a process has used so far, and how long it has waited for a CPU while ready to run, from /proc:
// the bench's servers and PostgreSQL's backends all run on this machine.
import { readFileSync } from 'node:fs';

/** User + system CPU seconds of process `pid` so far, from /proc/<pid>/stat. Throws when it is gone. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After the command: state is field 3, utime and stime are fields 14 and 15 (in clock ticks, 100 a second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Nanoseconds process `pid` has spent on a CPU and waiting on a run queue (ready to run, not running)
 * so far, from /proc/<pid>/schedstat; undefined when it is gone.
 */
export function processSchedule(pid: number): { runningNs: number; waitingNs: number } | undefined {
  try {
    const [running, waiting] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return { runningNs: Number(running), waitingNs: Number(waiting) };
  } catch {
    return undefined;
  }
}
