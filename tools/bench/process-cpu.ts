// CPU a process has used so far, and how long it has waited for a CPU while ready to run, from /proc:
// the bench's servers and PostgreSQL's backends all run on this machine.
import { readFileSync } from 'node:fs';

/**
 * The fields of /proc/<pid>/stat after the command (which may hold spaces): index 0 is field 3 (state),
 * index N is field N + 3. Throws when the process is gone.
 */
function statFields(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
}

/** User + system CPU seconds of process `pid` so far, from /proc/<pid>/stat. Throws when it is gone. */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15, in clock ticks (100 a second).
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

/**
 * What process `pid` is doing right now: its state (R running or ready, S sleeping, D waiting in the
 * kernel, usually for a disk), the kernel function it sleeps in (/proc/<pid>/wchan), and its major page
 * faults so far (pages it had to wait for from disk); undefined when it is gone.
 */
export function processState(pid: number): { state: string; sleepingIn: string; majorFaults: number } | undefined {
  try {
    const fields = statFields(pid);
    // state is field 3 and majflt field 12.
    const sleepingIn = readFileSync(`/proc/${pid}/wchan`, 'utf8').trim() || '-';
    return { state: fields[0] ?? '?', sleepingIn, majorFaults: Number(fields[9]) };
  } catch {
    return undefined;
  }
}
