// Takes the bench out of the kernel's autogroups. With kernel.sched_autogroup_enabled (as on this
// machine), every session in the root cpu cgroup is scheduled as a group of its own, and PostgreSQL
// makes every backend a session (setsid): each backend then weighs as much as all the bench's other
// servers together (gateway, workers, PgBouncer), so how the servers' core is shared swings with the
// number of busy backends. Services run under systemd or in containers sit in cgroups of their own,
// where autogroups do not apply; so does the bench, in a cpu cgroup created for the run (as root; with
// cgroup v1's cpu hierarchy or cgroup v2's cpu controller). Every process it starts afterwards inherits
// the group. Nothing to do, and nothing done, where autogroups are off or the group cannot be made.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const AUTOGROUP_SETTING = '/proc/sys/kernel/sched_autogroup_enabled';

function autogroupsOn(): boolean {
  try {
    return readFileSync(AUTOGROUP_SETTING, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** The cpu hierarchy's root: cgroup v1's cpu mount, or cgroup v2's root when it offers the cpu controller. */
function cpuHierarchyRoot(): string | undefined {
  if (existsSync('/sys/fs/cgroup/cpu/cgroup.procs')) return '/sys/fs/cgroup/cpu';
  try {
    if (readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes('cpu')) {
      // Children get the cpu controller only when the root hands it down.
      writeFileSync('/sys/fs/cgroup/cgroup.subtree_control', '+cpu');
      return '/sys/fs/cgroup';
    }
  } catch {
    // no cgroup v2 cpu controller we may use
  }
  return undefined;
}

export interface CpuGroup {
  /** Where the bench runs, for the report: its cgroup, or why it runs where it was started. */
  where: string;
  /** Moves the bench back to the root group and removes its own (once the processes it started are gone). */
  leave(): void;
}

export function leaveAutogroups(): CpuGroup {
  if (!autogroupsOn()) return { where: 'autogroups off: where it was started', leave: () => {} };
  const root = cpuHierarchyRoot();
  if (!root) return { where: 'autogroups on, no cpu cgroup to move to', leave: () => {} };
  const group = join(root, `poolwise-bench-${process.pid}`);
  try {
    mkdirSync(group);
    writeFileSync(join(group, 'cgroup.procs'), String(process.pid));
  } catch (error) {
    return { where: `autogroups on, could not make a cpu cgroup (${(error as Error).message})`, leave: () => {} };
  }
  return {
    where: group,
    leave() {
      try {
        writeFileSync(join(root, 'cgroup.procs'), String(process.pid));
        rmdirSync(group);
      } catch {
        // a process the bench started is still in it: the empty group goes with the next reboot
      }
    },
  };
}
