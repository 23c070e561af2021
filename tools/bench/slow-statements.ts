// What PostgreSQL was doing while a load ran: every statement (autovacuum included) seen not idle for
// more than a second, sampled from pg_stat_activity. Scenario 2 answers one request in several
// thousand with 503 in some full runs: a statement with no answer after DB_QUERY_TIMEOUT (5 s) where
// p99 is half a second. This names what ran long, and what it waited on, when that happens.
//
// It asks through a connection the caller already has (the bench's observer): one more would take
// one of PostgreSQL's 20 slots, the very thing scenario 2 runs short of.
import type pg from 'pg';
import { processCpuSeconds, processSchedule, processState } from './process-cpu.ts';

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
  /**
   * Stops sampling. `statements`: those seen, longest first, one line each. `runQueue`: the backends
   * kept off the CPU longest while ready to run, in one unbroken stretch (ready at consecutive samples,
   * running for under RAN_AT_MOST_SHARE of the time between them), longest first, one line each.
   */
  stop(): Promise<WatchReport>;
}

export interface WatchReport {
  statements: string[];
  runQueue: string[];
  /**
   * One backend as the watcher saw it: its wait for a CPU, and every change of its state, wait event
   * or statement start, at seconds since the watch began (none when it was never sampled).
   */
  backend(pid: number): string[];
}

/** What a backend was doing at one sample; a new entry only when it changed. */
interface Seen {
  atMs: number;
  what: string;
}

/** Changes kept per backend, the latest: a 15 s load sampled every 250 ms has at most 60 samples. */
const KEEP_CHANGES = 80;

/** A backend's schedule as last sampled, and its longest stretch of waiting on a run queue. */
interface BackendSchedule {
  pid: number;
  at: number;
  waitingNs: number;
  runningNs: number;
  /** Whether it was ready to run (state R) at the last sample. */
  ready: boolean;
  /** How long it has been ready to run and barely running, up to the last sample. */
  stretchMs: number;
  longestStretchMs: number;
  /** Its run-queue wait over the samples as the kernel accounts it (once each wait ends), ms. */
  waitedMs: number;
  backendAgeMs: number;
}

/**
 * A sample interval counts as waiting for a CPU when the backend was ready to run (state R) at both
 * ends of it and ran for less than this share of it. Not the run-queue wait of /proc/<pid>/schedstat:
 * the kernel adds a wait to that only once the wait ends and the task runs, so a backend kept off the
 * CPU for seconds shows nothing there until it is over (and nothing at all if it then exits at once).
 */
const RAN_AT_MOST_SHARE = 0.2;

export function watchSlowStatements(
  query: (text: string, values?: unknown[]) => Promise<pg.QueryResult>,
  database: string,
  options: { everyMs?: number; thresholdMs?: number; keep?: number } = {},
): SlowStatementWatch {
  const { everyMs = 250, thresholdMs = 1_000, keep = 20 } = options;
  const seen = new Map<string, SlowStatement>();
  const schedules = new Map<number, BackendSchedule>();
  const histories = new Map<number, Seen[]>();
  const began = performance.now();
  const remember = (pid: number, what: string) => {
    const history = histories.get(pid) ?? [];
    if (history.at(-1)?.what === what) return;
    history.push({ atMs: performance.now() - began, what });
    // The last ones: a stuck statement tends to come late in the load.
    if (history.length > KEEP_CHANGES) history.shift();
    histories.set(pid, history);
  };
  const followSchedule = (pid: number, backendAgeMs: number, state: string | undefined) => {
    const now = performance.now();
    const schedule = processSchedule(pid);
    if (!schedule) return;
    const known = schedules.get(pid);
    const ready = state === 'R';
    if (!known) {
      schedules.set(pid, {
        pid,
        at: now,
        ...schedule,
        ready,
        stretchMs: 0,
        longestStretchMs: 0,
        waitedMs: 0,
        backendAgeMs,
      });
      return;
    }
    const intervalMs = now - known.at;
    const ranMs = (schedule.runningNs - known.runningNs) / 1e6;
    const starved = known.ready && ready && ranMs < RAN_AT_MOST_SHARE * intervalMs;
    known.stretchMs = starved ? known.stretchMs + intervalMs : 0;
    known.longestStretchMs = Math.max(known.longestStretchMs, known.stretchMs);
    known.waitedMs += (schedule.waitingNs - known.waitingNs) / 1e6;
    Object.assign(known, { at: now, ...schedule, ready, backendAgeMs });
  };
  let watching = true;
  const sampling = (async () => {
    while (watching) {
      // Its own backend left out, a guard: an observer on the same database would always be running this
      // very query when sampled.
      const { rows } = await query(
        `SELECT pid, backend_type, state || ', ' || coalesce(wait_event_type || '/' || wait_event, 'on CPU') AS wait_event,
                left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS query,
                (extract(epoch FROM now() - query_start) * 1000)::int AS ms,
                (extract(epoch FROM now() - backend_start) * 1000)::int AS backend_ms,
                state <> 'idle' AND now() - query_start > make_interval(secs => $2::float8 / 1000) AS slow,
                client_port, to_char(query_start, 'HH24:MI:SS.MS') AS query_started
           FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [database, thresholdMs],
      );
      for (const row of rows) {
        // The process as the kernel sees it too: a backend PostgreSQL shows waiting for its client may be
        // stuck in the kernel instead (a page fault waiting for the disk shows as state D), or ready to run
        // and kept off the CPU (state R).
        const kernel = processState(row.pid);
        followSchedule(row.pid, row.backend_ms, kernel?.state);
        const seenByKernel = kernel
          ? `; process ${kernel.state} in ${kernel.sleepingIn}, ${kernel.majorFaults} major faults`
          : '';
        remember(
          row.pid,
          `${row.wait_event}, statement started ${row.query_started} (client port ${row.client_port})${seenByKernel}`,
        );
        if (!row.slow) continue;
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
      // A diagnostic, not a check: a failed query ends the sampling, and says so instead of the lines.
      const failed = await sampling.then(
        () => undefined,
        (error: Error) => `the watcher stopped: ${error.message}`,
      );
      if (failed) return { statements: [failed], runQueue: [failed], backend: () => [failed] };
      const runQueue = [...schedules.values()]
        .sort((a, b) => b.longestStretchMs - a.longestStretchMs)
        .slice(0, 3)
        .map(
          (b) =>
            `pid ${b.pid}: ready to run and kept off the CPU ${Math.round(b.longestStretchMs)} ms in one stretch; ` +
            `${Math.round(b.waitedMs)} ms of run-queue wait in all ` +
            `(backend ${b.backendAgeMs} ms old when last seen, ${Math.round(b.runningNs / 1e6)} ms on a CPU in all)`,
        );
      const statements = [...seen.values()]
        .sort((a, b) => b.longestMs - a.longestMs)
        .slice(0, keep)
        .map(
          (s) =>
            `${s.longestMs} ms, pid ${s.pid} (${s.backend}, ${s.waitEvent}; backend ${s.backendAgeMs} ms old, ` +
            `${s.cpuMs ?? '?'} ms CPU in all): ${s.query}`,
        );
      const backend = (pid: number) => {
        const schedule = schedules.get(pid);
        return [
          schedule
            ? `ready to run and kept off the CPU ${Math.round(schedule.longestStretchMs)} ms in one stretch; ${Math.round(schedule.waitedMs)} ms of run-queue wait in all (as accounted once each wait ends); ${Math.round(schedule.runningNs / 1e6)} ms on a CPU in all`
            : 'its CPU schedule was not followed',
          ...(histories.get(pid) ?? []).map((seen) => `at ${(seen.atMs / 1000).toFixed(2)} s: ${seen.what}`),
        ];
      };
      return { statements, runQueue, backend };
    },
  };
}
