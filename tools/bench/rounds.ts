// How the bench repeats a comparison (#15 item 4): every target of a scenario is measured once per
// round, each ratio is taken within a round (its two sides measured close together), and the
// median of the rounds is reported with their spread. Every other round runs the targets backwards, so
// a drift of the machine during a round weighs on both sides alike over the rounds.
import { median } from './median.ts';
import type { ScenarioOptions } from './scenarios.ts';

export interface RatioSummary {
  /** The median of the per-round ratios. */
  value: number;
  min: number;
  max: number;
  runs: number[];
}

export type RoundsOptions = Pick<ScenarioOptions, 'log' | 'betweenMeasurements' | 'seconds'> & {
  rounds: number;
  /** Warm each target up for WARM_UP_SECONDS right before each of its measurements (full runs). */
  warmUpEvery?: boolean;
};

/**
 * Unmeasured load on a target right before each of its measured runs in a full run's rounds, where a
 * target sits idle while the others are measured (10 s each and their warm-ups in a full run): longer
 * than the workers' DB_IDLE_TIMEOUT (10 s), so a worker's pool has closed its connections, and
 * whatever a runtime lets go of when idle is gone. Without it, scenario 6's round that measured Prisma
 * right after its idle was the lowest of three in three full runs of 2026-11-29 (0.89, 0.86 and 0.89).
 */
const WARM_UP_SECONDS = 2;

/**
 * Measures every target `rounds` times for `seconds`, the order alternating between rounds, each
 * measurement right after its warm-up when `warmUpEvery`. Returns each target's measurements in round
 * order.
 */
export async function measureInRounds<Target extends string, Result>(
  scenario: string,
  targets: readonly Target[],
  options: RoundsOptions,
  measure: (target: Target, seconds: number) => Promise<Result>,
): Promise<Record<Target, Result[]>> {
  if (!(options.rounds >= 1)) throw new Error(`${scenario}: at least one round, not ${options.rounds}`);
  const runs = Object.fromEntries(targets.map((target) => [target, [] as Result[]])) as Record<Target, Result[]>;
  for (let r = 0; r < options.rounds; r++) {
    if (options.rounds > 1) options.log(`${scenario}: round ${r + 1} of ${options.rounds}`);
    await options.betweenMeasurements?.();
    for (const target of r % 2 ? [...targets].reverse() : targets) {
      if (options.warmUpEvery) await measure(target, WARM_UP_SECONDS);
      runs[target].push(await measure(target, options.seconds));
    }
  }
  return runs;
}

const round = (value: number) => Math.round(value * 100) / 100;

/** The median and spread of per-round ratios. */
function summarise(ratios: number[]): RatioSummary {
  return {
    value: round(median(ratios)),
    min: round(Math.min(...ratios)),
    max: round(Math.max(...ratios)),
    runs: ratios.map(round),
  };
}

/** Round by round, `of(a) / of(b)`, summarised. */
export function ratioOfRounds<Result>(a: Result[], b: Result[], of: (result: Result) => number): RatioSummary {
  return summarise(a.map((result, i) => of(result) / Math.max(1, of(b[i] as Result))));
}

/** The run a target reports as its row: its median round by `of` (requests per second by default). */
export function medianRun<Result extends { requestsPerSecond: number }>(runs: Result[]): Result;
export function medianRun<Result>(runs: Result[], of: (result: Result) => number): Result;
export function medianRun<Result>(
  runs: Result[],
  of: (result: Result) => number = (result) => (result as { requestsPerSecond: number }).requestsPerSecond,
): Result {
  return [...runs].sort((x, y) => of(x) - of(y))[Math.floor(runs.length / 2)] as Result;
}
