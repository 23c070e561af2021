// One fault under load, reduced to the figures the suite checks and the README's table shows.

import { type Outcome, type RunningLoad, resendCreate, startFaultLoad } from './fault-load.ts';
import type { FaultStack } from './fault-stack.ts';
import type { Fault } from './faults.ts';

export interface FaultReport {
  fault: string;
  title: string;
  requests: number;
  /** Answers by status ("0" = connection dropped with no answer). */
  statuses: Record<string, number>;
  acknowledged: number;
  /** Acknowledged creates (201) whose row is not in the database afterwards. */
  lost: number;
  /** Creates that got no 201 (a 5xx or nothing): applied or not, the client cannot know. */
  indeterminate: number;
  /** Of those, how many got their 201 when sent again afterwards with the same Idempotency-Key. */
  resolvedByRetry: number;
  /** Creates (by their unique name) that ended up as more than one row. */
  duplicated: number;
  /** Failures (5xx) without Retry-After where one is due (503). */
  missingRetryAfter: number;
  /** The slowest answer to any request, ms. */
  slowestMs: number;
  /** From the first failed answer to the last, seconds (0 when nothing failed). */
  failingSeconds: number;
  /** From the heal to the first success after the last failure, seconds; null if it never recovered. */
  recoverySeconds: number | null;
  /**
   * PostgreSQL's server connections for the database with no load: the baseline before the fault, and
   * once the load has stopped and PgBouncer has closed what it no longer uses (after 1 s idle in this
   * stack). A leak is a connection still busy (running, or idle in a transaction) or a count that does
   * not come back to the baseline.
   */
  serverConnections: { before: number; after: number; busyAfter: number };
}

const ok = (outcome: Outcome) => outcome.status >= 200 && outcome.status < 300;

export async function runFault(
  stack: FaultStack,
  fault: Fault,
  options: { holdMs: number; steadyMs?: number; recoveryLimitMs?: number },
): Promise<FaultReport> {
  const before = await quietServerConnections(stack);
  const load = startFaultLoad(stack.gateway.url, stack.token);
  await Bun.sleep(options.steadyMs ?? 1_000);
  await fault.inject(stack);
  await Bun.sleep(options.holdMs);
  await fault.heal(stack);
  const healedAt = load.now();
  // Keep the load on until it has run clean for a second (or the limit passes).
  await waitForCleanSecond(load, healedAt, options.recoveryLimitMs ?? 15_000);
  const outcomes = await load.stop();

  const creates = outcomes.filter((outcome) => outcome.kind === 'create');
  const acknowledged = creates.filter((outcome) => outcome.status === 201 && outcome.id).map((o) => o.id as string);
  const present = await stack.presentClientIds(acknowledged);
  const unanswered = creates.filter((outcome) => outcome.status !== 201);
  const resent = await Promise.all(unanswered.map((outcome) => resendCreate(stack.gateway.url, stack.token, outcome)));
  const names = creates.map((outcome) => (outcome.body ? (JSON.parse(outcome.body) as { name: string }).name : ''));
  const rowsPerName = await stack.clientsNamed(names);
  const failures = outcomes.filter((outcome) => outcome.status === 0 || outcome.status >= 500);
  const lastFailure = failures.at(-1);
  const firstSuccessAfter = outcomes.find((outcome) => ok(outcome) && (!lastFailure || outcome.at > lastFailure.at));
  const statuses: Record<string, number> = {};
  for (const outcome of outcomes) statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
  return {
    fault: fault.id,
    title: fault.title,
    requests: outcomes.length,
    statuses,
    acknowledged: acknowledged.length,
    lost: acknowledged.filter((id) => !present.has(id)).length,
    indeterminate: unanswered.length,
    resolvedByRetry: resent.filter(Boolean).length,
    duplicated: [...rowsPerName.values()].filter((count) => count > 1).length,
    missingRetryAfter: failures.filter((outcome) => outcome.status === 503 && !outcome.retryAfter).length,
    slowestMs: Math.max(0, ...outcomes.map((outcome) => outcome.latencyMs)),
    failingSeconds: lastFailure ? Math.round(((lastFailure.at - (failures[0]?.at ?? 0)) / 1000) * 10) / 10 : 0,
    recoverySeconds: firstSuccessAfter ? Math.max(0, Math.round((firstSuccessAfter.at - healedAt) / 100) / 10) : null,
    serverConnections: { before, ...(await settledServerConnections(stack, before)) },
  };
}

/** Waits until, after the heal, one second has passed in which every answer was a 2xx. */
async function waitForCleanSecond(load: RunningLoad, healedAt: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    await Bun.sleep(250);
    const since = load.now() - 1_000;
    if (since < healedAt) continue;
    const recent = load.peek().filter((outcome) => outcome.at >= since);
    if (recent.length > 0 && recent.every(ok)) return;
  }
}

/**
 * Server connections over one second, sampled every 100 ms: the most and the fewest seen, and the
 * fewest busy. The gateway's readiness probes reach PostgreSQL every second, so one sample can catch
 * a connection that is gone a moment later: a baseline takes the most, a leak shows in the fewest.
 */
async function sampleServerConnections(stack: FaultStack) {
  const samples: { total: number; busy: number }[] = [];
  for (let i = 0; i < 10; i++) {
    samples.push(await stack.serverConnections());
    await Bun.sleep(100);
  }
  return {
    most: Math.max(...samples.map((sample) => sample.total)),
    fewest: Math.min(...samples.map((sample) => sample.total)),
    fewestBusy: Math.min(...samples.map((sample) => sample.busy)),
  };
}

/** The baseline with no load: the most seen in a second once the last run's connections have closed. */
async function quietServerConnections(stack: FaultStack): Promise<number> {
  await Bun.sleep(1_500); // PgBouncer closes unused server connections after 1 s in this stack
  return (await sampleServerConnections(stack)).most;
}

/** Waits (at most 10 s) until, over a whole second, some moment had none busy and at most `baseline`. */
async function settledServerConnections(stack: FaultStack, baseline: number) {
  let seen = await sampleServerConnections(stack);
  for (let waited = 0; (seen.fewestBusy > 0 || seen.fewest > baseline) && waited < 10_000; waited += 1_000) {
    seen = await sampleServerConnections(stack);
  }
  return { after: seen.fewest, busyAfter: seen.fewestBusy };
}
