// How long a refused client should wait before it comes back: the time the worker needs to answer
// everyone ahead of it, not a constant. Pure arithmetic, unit-tested in retry-after.test.ts.
//
// Everyone ahead is what holds a slot or waits in the queue now, and also every client already told
// to come back. So each refusal takes the next turn in a schedule: its turn starts when the later of
// the two ends (the current backlog drained, or the last promised turn) and lasts one answer. A crowd
// refused together is told 1, 2, 3 ... seconds in proportion to the worker's pace and comes back
// spread over them, about as fast as the worker answers, instead of every client each second. A client
// that asks again early is refused again, cheaply; the schedule only moves forward on refusals, so
// when the crowd thins nobody is refused and nothing is promised.
//
// The pace comes from how long each forwarded request held its slot (Little's law: slots / mean
// hold), not from answers counted per second: a worker that was quiet before a burst answered few
// requests a second, but quickly, and the first refusals of the burst should say 1 s, not the maximum.

/** Weight of each new hold time in the running mean: it follows a change of pace within ~30 answers. */
export const HOLD_TIME_WEIGHT = 1 / 32;

/** The running mean of slot hold times (ms): undefined until the first answer. */
export function nextMeanHoldMs(previous: number | undefined, heldMs: number): number {
  return previous === undefined ? heldMs : previous + HOLD_TIME_WEIGHT * (heldMs - previous);
}

export interface RefusalWaitInput {
  /** Now, in ms on the same clock as `promisedUntilMs`. */
  nowMs: number;
  /** Requests holding a slot plus those queued for one. */
  backlog: number;
  /** Slots in use when full (in-flight bound × replicas in rotation). */
  slots: number;
  /** The running mean slot hold time; undefined before the first answer. */
  meanHoldMs: number | undefined;
  /** When the last client told to come back has its turn (0 or in the past: nobody promised). */
  promisedUntilMs: number;
  /** The longest wait ever told, seconds (at least 1). */
  maxSeconds: number;
}

/** Retry-After for one refusal (whole seconds, 1..maxSeconds), and the schedule's new end. */
export function refusalWait(input: RefusalWaitInput): { seconds: number; promisedUntilMs: number } {
  const { nowMs, backlog, slots, meanHoldMs, promisedUntilMs } = input;
  const maxSeconds = Math.max(1, Math.floor(input.maxSeconds));
  // No answer yet, no pace: the catalogue's 1 s, and nothing promised.
  if (meanHoldMs === undefined || maxSeconds === 1) return { seconds: 1, promisedUntilMs };
  const msPerAnswer = meanHoldMs / Math.max(1, slots);
  const turnStarts = Math.max(promisedUntilMs, nowMs + backlog * msPerAnswer);
  // Past the maximum everyone is told the maximum; the schedule stops there rather than run away.
  const turnEnds = Math.min(turnStarts + msPerAnswer, nowMs + maxSeconds * 1000);
  const seconds = Math.min(maxSeconds, Math.max(1, Math.ceil((turnEnds - nowMs) / 1000)));
  return { seconds, promisedUntilMs: turnEnds };
}
