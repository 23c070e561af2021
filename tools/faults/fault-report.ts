// What a fault run must show (the promises of issue 12), and its row in the README's fault table.
import { FAULT_SETTINGS } from './fault-stack.ts';
import type { FaultReport } from './run-fault.ts';

/** The stated bounds: answered within the gateway's upstream timeout, recovered within 10 s. */
export const ANSWER_BOUND_MS = FAULT_SETTINGS.UPSTREAM_TIMEOUT * 1000 + 1_000;
export const RECOVERY_BOUND_SECONDS = 10;

/** Statuses a request may get while a fault lasts: 503 (with Retry-After), 504, or 502 (a worker gone mid-answer). */
const ALLOWED_FAILURES = new Set(['502', '503', '504']);

export function faultProblems(report: FaultReport): string[] {
  const problems: string[] = [];
  for (const [status, count] of Object.entries(report.statuses)) {
    const n = Number(status);
    if (n >= 200 && n < 300) continue;
    if (status === '0') problems.push(`${count} connection(s) dropped with no answer`);
    else if (!ALLOWED_FAILURES.has(status)) problems.push(`${count} answer(s) ${status}`);
  }
  if (report.lost > 0) problems.push(`${report.lost} acknowledged write(s) lost`);
  if (report.duplicated > 0) problems.push(`${report.duplicated} create(s) applied twice`);
  if (report.resolvedByRetry < report.indeterminate)
    problems.push(
      `${report.indeterminate - report.resolvedByRetry} unanswered create(s) still failing when sent again`,
    );
  if (report.missingRetryAfter > 0) problems.push(`${report.missingRetryAfter} 503(s) without Retry-After`);
  if (report.slowestMs > ANSWER_BOUND_MS)
    problems.push(`an answer took ${report.slowestMs} ms (bound ${ANSWER_BOUND_MS})`);
  if (report.recoverySeconds === null || report.recoverySeconds > RECOVERY_BOUND_SECONDS)
    problems.push(`recovery ${report.recoverySeconds ?? 'never'} s (bound ${RECOVERY_BOUND_SECONDS} s)`);
  const { before, after, busyAfter } = report.serverConnections;
  if (after > before)
    problems.push(`${after} server connections afterwards, ${before} before: not back to the baseline`);
  if (busyAfter > 0) problems.push(`${busyAfter} server connection(s) still busy after the load stopped`);
  return problems;
}

export const FAULT_TABLE_HEADER = [
  '| fault | requests | 503 | 504 | 502 | acknowledged | lost | indeterminate (resent with key: ok) | duplicated | slowest ms | failing s | recovery s | server conns before/after |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
].join('\n');

export function faultTableRow(report: FaultReport): string {
  const s = (status: string) => report.statuses[status] ?? 0;
  return `| ${report.title} | ${report.requests} | ${s('503')} | ${s('504')} | ${s('502')} | ${report.acknowledged} | ${report.lost} | ${report.indeterminate} (${report.resolvedByRetry}) | ${report.duplicated} | ${report.slowestMs} | ${report.failingSeconds} | ${report.recoverySeconds ?? 'never'} | ${report.serverConnections.before}/${report.serverConnections.after} |`;
}
