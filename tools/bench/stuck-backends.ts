// Scenario 2's rare 503 (README, "Scenario 2's one error"): PgBouncer waited seconds on one server
// connection while PostgreSQL showed nothing running long. This finds, in the servers' log, the
// backend behind such a connection, so the report can say what that very backend was doing.
import type { WatchReport } from './slow-statements.ts';

/**
 * The PostgreSQL backend behind each server connection PgBouncer closed while waiting on it ("client
 * disconnect while server was not ready": the replica gave its statement up), found by PgBouncer's
 * local port, with what the watcher saw it do and every line PostgreSQL logged for it.
 */
export function describeStuckBackends(serverLog: string[], backend: WatchReport['backend']): string[] {
  const lines: string[] = [];
  for (const closing of serverLog.filter((line) => line.includes('while server was not ready'))) {
    const server = / (S-0x[0-9a-f]+):/.exec(closing)?.[1];
    // PgBouncer reuses a freed server's address, so the last connection opened under it before the close.
    const opened = serverLog
      .slice(0, serverLog.indexOf(closing))
      .filter((line) => server && line.includes(`${server}:`) && line.includes('new connection to server'))
      .at(-1);
    const port = opened && /\(from [^)]*:(\d+)\)/.exec(opened)?.[1];
    // PostgreSQL's lines come through a pipe of their own, so its "connection received" may sit a few
    // lines before PgBouncer's; the port, as a whole number.
    const portOf = new RegExp(`port=${port}\\b`);
    const pid = serverLog
      .slice(opened ? Math.max(0, serverLog.indexOf(opened) - 20) : 0)
      .filter((line) => line.startsWith('postgres:') && port && portOf.test(line))
      .map((line) => /\[(\d+)\]/.exec(line)?.[1])
      .find(Boolean);
    lines.push(`stuck server ${server}: PgBouncer's port ${port ?? '?'}, PostgreSQL backend ${pid ?? 'not found'}`);
    if (!pid) continue;
    for (const seen of backend(Number(pid))) lines.push(`  backend ${pid}: ${seen}`);
    for (const line of serverLog.filter((line) => line.includes(`[${pid}]`))) lines.push(`  ${line.slice(0, 300)}`);
  }
  return lines;
}
