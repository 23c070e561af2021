// Takes the bench out of the kernel's autogroups. With kernel.sched_autogroup_enabled (as on this
// machine), every session in the root cpu cgroup is scheduled as a group of its own, and PostgreSQL
// makes every backend a session (setsid): each backend then weighs as much as all the bench's other
// servers together (gateway, workers, PgBouncer), so how the servers' core is shared swings with the
// number of busy backends. Autogroups apply only in the root cpu group: services run under systemd or in
// containers sit in cpu groups of their own, and so does the bench, in one created for the run (as
// root; cgroup v1's cpu hierarchy, or cgroup v2 where its root already hands the cpu controller down:
// the host's settings are not changed). Every process it starts afterwards inherits the group. Nothing
// is done where autogroups are off or no group can be made.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const AUTOGROUP_SETTING = '/proc/sys/kernel/sched_autogroup_enabled';

function autogroupsOn(): boolean {
  try {
    return readFileSync(AUTOGROUP_SETTING, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** The cpu hierarchy's root: cgroup v1's cpu mount, or cgroup v2's root when it hands the cpu controller down. */
function cpuHierarchyRoot(): string | undefined {
  if (existsSync('/sys/fs/cgroup/cpu/cgroup.procs')) return '/sys/fs/cgroup/cpu';
  try {
    if (readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').split(/\s+/).includes('cpu')) {
      return '/sys/fs/cgroup';
    }
  } catch {
    // no cgroup v2 here
  }
  return undefined;
}

const GROUP_PREFIX = 'poolwise-bench-';

/** Groups of earlier runs that were killed before they could leave: removable once empty. */
function removeEmptyGroups(root: string): void {
  for (const name of readdirSync(root).filter((entry) => entry.startsWith(GROUP_PREFIX))) {
    try {
      rmdirSync(join(root, name));
    } catch {
      // still holds a process (another bench running): not ours to remove
    }
  }
}

export interface CpuGroup {
  /** Where the bench runs, for the report: its cgroup, or why it runs where it was started. */
  where: string;
  /**
   * Moves the bench back to the root group and removes its own (once the processes it started are
   * gone); says what it could not do.
   */
  leave(): string | undefined;
}

export function leaveAutogroups(): CpuGroup {
  const stay = (where: string) => ({ where, leave: () => undefined });
  if (!autogroupsOn()) return stay('autogroups off: where it was started');
  const root = cpuHierarchyRoot();
  if (!root) return stay('autogroups on, no cpu cgroup to move to');
  const group = join(root, `${GROUP_PREFIX}${process.pid}`);
  try {
    removeEmptyGroups(root);
    mkdirSync(group);
    writeFileSync(join(group, 'cgroup.procs'), String(process.pid));
  } catch (error) {
    try {
      rmdirSync(group);
    } catch {
      // never made
    }
    return stay(`autogroups on, could not make a cpu cgroup (${(error as Error).message})`);
  }
  return {
    where: group,
    leave() {
      try {
        writeFileSync(join(root, 'cgroup.procs'), String(process.pid));
        rmdirSync(group);
        return undefined;
      } catch (error) {
        // A process the bench started is still in it; the next run removes the group once it is empty.
        return `could not remove ${group}: ${(error as Error).message}`;
      }
    },
  };
}
