// How fast the servers' core is right now, sampled between measurements, so a run can say whether the
// machine held still while it measured (#15 item 4: ratios that hold from run to run). Rounds take each
// ratio between two targets measured next to each other, which cancels a slow drift; a machine whose
// speed jumps (another tenant on the host, a second load test) still moves them. The samples show it:
// the same fixed work, timed on the bench process's core (the servers' core whenever it is not driving
// load, see cpu-pinning.ts), and the spread between the fastest and the slowest sample is reported.
//
// Each sample first waits for the servers' core to go quiet: the services are still finishing the
// last measurement's requests for up to a second after the load stops (a database-path page takes
// 0.25-0.5 s under load), and a sample taken then timed that tail, not the machine. In full runs of
// 2026-11-29 the sample right after scenario 3's warm-up load read 0.27-0.35 of the first while nearly
// every other sat within 0.94-1.15, and the reported spread said 74-80 %; waiting, 14-23 %.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { median } from './median.ts';

const BLOCK = Buffer.alloc(4096, 7);
const HASHES_PER_TRY = 2_000;
const TRIES = 5;
/** The servers' cores count as quiet once at most this share of a window was busy. */
const QUIET_SHARE = 0.2;
/** 200 ms: /proc/stat counts in hundredths of a second, so a window holds 20 ticks a core. */
const QUIET_WINDOW_MS = 200;

/** Busy and total ticks of the given cores (every core when undefined), from /proc/stat. */
function coreTicks(cores: ReadonlySet<number> | undefined): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match || (cores && !cores.has(Number(match[1])))) continue;
    // user nice system idle iowait irq softirq steal: steal is time the host gave to someone else,
    // which is the machine's noise the sample is there to show, so it does not count as busy.
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (match[2] as string)
      .trim()
      .split(/\s+/)
      .map(Number);
    busy += user + nice + system + irq + softirq;
    total += user + nice + system + idle + iowait + irq + softirq + steal;
  }
  return { busy, total };
}

/**
 * Waits until the cores were at most QUIET_SHARE busy over one window, or `limitMs` passed (a core that
 * never goes quiet, with another tenant's load or a runaway server, is sampled anyway); returns how
 * long it waited. Where /proc/stat cannot be read, it does not wait.
 */
async function settle(cores: ReadonlySet<number> | undefined, limitMs: number): Promise<number> {
  const started = performance.now();
  try {
    while (performance.now() - started < limitMs) {
      const before = coreTicks(cores);
      await Bun.sleep(QUIET_WINDOW_MS);
      const after = coreTicks(cores);
      const total = after.total - before.total;
      if (total > 0 && (after.busy - before.busy) / total <= QUIET_SHARE) break;
    }
  } catch {
    return 0;
  }
  return Math.round(performance.now() - started);
}

/** '1' or '1-3' (taskset's list, as cpu-pinning.ts writes it) as core numbers. */
export function parseCoreList(list: string): Set<number> {
  const cores = new Set<number>();
  for (const part of list.split(',')) {
    const [from, to = from] = part.split('-').map((n) => Number(n.trim()));
    if (!Number.isInteger(from) || !Number.isInteger(to)) throw new Error(`not a core list: ${list}`);
    for (let core = from as number; core <= (to as number); core++) cores.add(core);
  }
  return cores;
}

/**
 * Milliseconds for a fixed amount of CPU work (hashing), the fastest of five tries: what is left of the
 * last measurement (servers settling, PostgreSQL writing) slows a try or two, a slower machine every one.
 */
function timeFixedWork(): number {
  const tries: number[] = [];
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const started = performance.now();
    for (let index = 0; index < HASHES_PER_TRY; index++) createHash('sha256').update(BLOCK).digest();
    tries.push(performance.now() - started);
  }
  return Math.min(...tries);
}

export interface MachineSpeed {
  /** Every sample, as work per millisecond relative to the first (1 = as fast as at the start). */
  samples: number[];
  /** (fastest - slowest) / median, in percent. */
  spreadPercent: number;
  /** The longest wait for the servers' cores to go quiet before a sample. */
  longestSettleMs: number;
}

/**
 * Samples on `serverCores` (a taskset list; every core when undefined, as in an unpinned run), each
 * after waiting up to `settleLimitMs` (5 s by default) for them to go quiet.
 */
export function machineSpeedSampler(serverCores?: string, { settleLimitMs = 5_000 } = {}) {
  const cores = serverCores === undefined ? undefined : parseCoreList(serverCores);
  timeFixedWork(); // warms the code up: the first timing would otherwise count the JIT
  const milliseconds: number[] = [];
  let longestSettleMs = 0;
  return {
    async sample(): Promise<void> {
      longestSettleMs = Math.max(longestSettleMs, await settle(cores, settleLimitMs));
      milliseconds.push(timeFixedWork());
    },
    summary(): MachineSpeed | undefined {
      if (milliseconds.length < 2) return undefined;
      const first = milliseconds[0] as number;
      const samples = milliseconds.map((ms) => Math.round((first / ms) * 100) / 100);
      const spreadPercent = Math.round(((Math.max(...samples) - Math.min(...samples)) / median(samples)) * 1000) / 10;
      return { samples, spreadPercent, longestSettleMs };
    },
  };
}
