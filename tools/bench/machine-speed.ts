// How fast the servers' core is right now, sampled between measurements, so a run can say whether the
// machine held still while it measured (#15 item 4: ratios that hold from run to run). Rounds take each
// ratio between two targets measured next to each other, which cancels a slow drift; a machine whose
// speed jumps (another tenant on the host, a second load test) still moves them. The samples show it:
// the same fixed work, timed on the bench process's core (the servers' core whenever it is not driving
// load, see cpu-pinning.ts), and the spread between the fastest and the slowest sample is reported.
import { createHash } from 'node:crypto';
import { median } from './median.ts';

const BLOCK = Buffer.alloc(4096, 7);
const HASHES_PER_TRY = 2_000;
const TRIES = 5;

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
}

export function machineSpeedSampler() {
  timeFixedWork(); // warms the code up: the first timing would otherwise count the JIT
  const milliseconds: number[] = [];
  return {
    sample(): void {
      milliseconds.push(timeFixedWork());
    },
    summary(): MachineSpeed | undefined {
      if (milliseconds.length < 2) return undefined;
      const first = milliseconds[0] as number;
      const samples = milliseconds.map((ms) => Math.round((first / ms) * 100) / 100);
      const spreadPercent = Math.round(((Math.max(...samples) - Math.min(...samples)) / median(samples)) * 1000) / 10;
      return { samples, spreadPercent };
    },
  };
}
