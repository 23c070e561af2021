/**
 * Wraps a check so that concurrent callers share one run, and callers within `ttlMs` of the last
 * run's end get its outcome (a failure included) without running it again. Readiness uses it: a
 * flood of probes must not become a flood of `SELECT 1` on a two-connection pool, and an answer at
 * most `ttlMs` old is as good as a fresh one to a balancer that probes every few seconds.
 */
export function reuseRecentResult<T>(check: () => Promise<T>, ttlMs: number, now: () => number = Date.now) {
  let running: Promise<T> | undefined;
  let settled: { at: number; outcome: Promise<T> } | undefined;
  return (): Promise<T> => {
    if (running) return running;
    if (settled && now() - settled.at < ttlMs) return settled.outcome;
    const run = check();
    running = run;
    const remember = () => {
      settled = { at: now(), outcome: run };
      running = undefined;
    };
    run.then(remember, remember);
    return run;
  };
}

/**
 * How long a readiness answer is reused, by the workers (their `SELECT 1`) and by the gateway (its
 * round of every replica): a flood of /health/ready costs about one check per interval, and a
 * balancer probing every second or more sees an answer at most this old.
 */
export const READINESS_REUSE_MS = 1_000;
