// What PostgreSQL was doing while a load ran: every statement (autovacuum included) seen not idle for
// more than a second, sampled from pg_stat_activity. Scenario 2 answers one request in several
// thousand with 503 in some full runs: a statement with no answer after DB_QUERY_TIMEOUT (5 s) where
// p99 is half a second. This names what ran long, and what it waited on, when that happens.
//
// It asks through a connection the caller already has (the bench's observer): one more would take
// one of PostgreSQL's 20 slots, the very thing scenario 2 runs short of.
import type pg from 'pg';
import { processCpuSeconds } from './process-cpu.ts';

interface SlowStatement {
  pid: number;
  backend: string;
  waitEvent: string;
  query: string;
  longestMs: number;
  /** How long the backend had existed when the statement was last seen: a fresh one has cold caches. */
  backendAgeMs: number;
  /** CPU the backend process had used in all when last seen (/proc; PostgreSQL runs on this machine in the bench). */
  cpuMs?: number;
}

/** A backend's CPU so far in ms, or undefined when it has already gone. */
function processCpuMs(pid: number): number | undefined {
  try {
    return processCpuSeconds(pid) * 1000;
  } catch {
    return undefined;
  }
}

export interface SlowStatementWatch {
  /** Stops sampling; the statements seen, longest first, one line each. */
  stop(): Promise<string[]>;
}

export function watchSlowStatements(
  query: (text: string, values?: unknown[]) => Promise<pg.QueryResult>,
  database: string,
  options: { everyMs?: number; thresholdMs?: number; keep?: number } = {},
): SlowStatementWatch {
  const { everyMs = 250, thresholdMs = 1_000, keep = 20 } = options;
  const seen = new Map<string, SlowStatement>();
  let watching = true;
  const sampling = (async () => {
    while (watching) {
      const { rows } = await query(
        `SELECT pid, backend_type, state || ', ' || coalesce(wait_event_type || '/' || wait_event, 'on CPU') AS wait_event,
                left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS query,
                (extract(epoch FROM now() - query_start) * 1000)::int AS ms,
                (extract(epoch FROM now() - backend_start) * 1000)::int AS backend_ms
           FROM pg_stat_activity
          WHERE datname = $1 AND state <> 'idle' AND now() - query_start > make_interval(secs => $2::float8 / 1000)`,
        [database, thresholdMs],
      );
      for (const row of rows) {
        const key = `${row.pid} ${row.query}`;
        const known = seen.get(key);
        const latest = {
          pid: row.pid,
          backend: row.backend_type,
          waitEvent: row.wait_event,
          query: row.query,
          longestMs: row.ms,
          backendAgeMs: row.backend_ms,
          cpuMs: processCpuMs(row.pid),
        };
        if (!known || row.ms >= known.longestMs) seen.set(key, latest);
      }
      await Bun.sleep(everyMs);
    }
  })();
  return {
    async stop() {
      watching = false;
      await sampling.catch(() => {});
      return [...seen.values()]
        .sort((a, b) => b.longestMs - a.longestMs)
        .slice(0, keep)
        .map(
          (s) =>
            `${s.longestMs} ms, pid ${s.pid} (${s.backend}, ${s.waitEvent}; backend ${s.backendAgeMs} ms old, ` +
            `${s.cpuMs ?? '?'} ms CPU in all): ${s.query}`,
        );
    },
  };
}
