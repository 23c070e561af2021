// One fault under load, reduced to the figures the suite checks and the README's table shows.

import { type Outcome, type RunningLoad, resendCreate, startFaultLoad } from './fault-load.ts';
import { FAULT_SETTINGS, type FaultStack } from './fault-stack.ts';
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
   * PostgreSQL's server connections for the database: the most seen under steady load before the
   * fault, and once the load has stopped and the pools settled. A leak is a connection still busy
   * (running, or idle in a transaction) with no load, or more connections than PgBouncer's pool.
   */
  serverConnections: { before: number; after: number; busyAfter: number };
}

const ok = (outcome: Outcome) => outcome.status >= 200 && outcome.status < 300;

export async function runFault(
  stack: FaultStack,
  fault: Fault,
  options: { holdMs: number; steadyMs?: number; recoveryLimitMs?: number },
): Promise<FaultReport> {
  const load = startFaultLoad(stack.gateway.url, stack.token);
  let before = 0;
  for (let sampled = 0; sampled < (options.steadyMs ?? 1_000); sampled += 250) {
    await Bun.sleep(250);
    before = Math.max(before, (await stack.serverConnections()).total);
  }
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
    serverConnections: { before, ...(await settledServerConnections(stack)) },
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

/** Server connections once the pools have settled: none busy and within PgBouncer's pool, or the last count. */
async function settledServerConnections(stack: FaultStack) {
  let count = await stack.serverConnections();
  for (
    let waited = 0;
    (count.busy > 0 || count.total > FAULT_SETTINGS.PGBOUNCER_POOL) && waited < 10_000;
    waited += 250
  ) {
    await Bun.sleep(250);
    count = await stack.serverConnections();
  }
  return { after: count.total, busyAfter: count.busy };
}
