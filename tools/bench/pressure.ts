// How long the machine's tasks stalled waiting for IO so far (Linux pressure stall information): a
// page fault or a read that waits seconds for the disk shows here, not in any CPU figure. Scenario 2
// prints what its load window added.
import { readFileSync } from 'node:fs';

/**
 * Microseconds so far in which some task (`some`), or every task that wanted to run (`full`), waited
 * for IO, from /proc/pressure/io; undefined where the kernel does not keep it.
 */
export function ioStallMicros(): { some: number; full: number } | undefined {
  try {
    const text = readFileSync('/proc/pressure/io', 'utf8');
    const total = (kind: string) => Number(new RegExp(`^${kind} .*total=(\\d+)`, 'm').exec(text)?.[1]);
    const stall = { some: total('some'), full: total('full') };
    return Number.isFinite(stall.some) && Number.isFinite(stall.full) ? stall : undefined;
  } catch {
    return undefined;
  }
}
