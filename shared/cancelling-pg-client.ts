// DB_QUERY_TIMEOUT that stops the statement, not only the wait for it.
//
// pg's own `query_timeout` gives up waiting and leaves the statement running. pg-pool then closes the
// connection. PgBouncer closes its server connection mid-statement and opens another for the next
// client. PostgreSQL now runs one backend more than the pool: the abandoned one, busy until its
// statement ends (the bench saw 16 backends on a pool of 15). Under overload the abandoned statements
// are work nobody waits for, on the database that is already short of time.
//
// This pg Client asks the server to cancel a statement that outlives the timeout (a CancelRequest,
// which PgBouncer forwards to the server running it), again every 100 ms while the statement has not
// ended (PgBouncer drops a cancel for a statement still in its queue). It fails the query once the
// statement has ended and no cancel is still on its way; the connection is then idle on the server, and
// closing it or rolling back on it leaves nothing running. When that does not happen within
// CANCEL_GRACE_MS (a paused pooler, a cut link), the query fails anyway and the connection is marked
// not reusable, as before.
//
// A cancel must not land on a later statement. PostgreSQL ignores one that reaches an idle backend.
// PgBouncer 1.18 and later (Debian 12's 1.18 in tests, 1.24 in compose and deploy) drops one whose
// statement has ended, keeps the server out of its pool until the cancel has reached PostgreSQL, and
// only then closes our cancel connection, which is why that close is what is waited for. Older
// PgBouncers closed it at once.
//
// Hand-written: pg has no cancelling timeout, and its `cancel()` neither reports when the cancel went
// out nor avoids the deprecated `activeQuery` getter. The cancel packet itself is pg's (Connection.cancel).
import pg from 'pg';

/** How long a timed-out statement may take to end after its cancel was sent, before the connection is given up. */
export const CANCEL_GRACE_MS = 1_000;
/**
 * A cancel that arrives while the statement still waits in PgBouncer's queue is dropped ("cancel
 * request for idle client"): it is sent again this often until the statement ends or the grace is up.
 */
const CANCEL_RETRY_MS = 100;
/** A cancel connection nobody closes (a paused pooler) is closed after this long. */
const CANCEL_SOCKET_BACKSTOP_MS = 60_000;

/** The error a statement past DB_QUERY_TIMEOUT fails with; the message is what db-failures.ts matches. */
export class StatementTimedOut extends Error {
  override name = 'StatementTimedOut';
  constructor(
    readonly timeoutMs: number,
    /** True when the statement ended (or never started) and no cancel for it is still on its way: nothing runs on the connection. */
    readonly connectionReusable: boolean,
    /** False when it was still queued on its connection (behind another statement, or the connection still opening): never sent. */
    readonly sent = true,
  ) {
    super(
      `Query read timeout: no answer within ${timeoutMs} ms; ${
        !sent
          ? 'the statement was never sent: its connection was still busy or opening'
          : connectionReusable
            ? 'the statement was cancelled on the server'
            : 'the server did not confirm the cancel in time, so the connection must not be reused'
      }`,
    );
  }
}

/** pg's Client fields this relies on (not in @types/pg). */
interface ClientInternals {
  host: string;
  port: number;
  processID: number | null;
  secretKey: number | null;
  pipeline: boolean;
  _queryQueue: unknown[];
  connectionParameters: { query_timeout?: number };
}

interface CancelConnection {
  stream: { destroy(): void; unref?(): void };
  on(event: string, listener: (...args: unknown[]) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  connect(portOrPath: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
}

/**
 * Sends a CancelRequest for the statement running on the connection with this process id and key,
 * on a connection of its own as the protocol requires; `closed` runs once that connection has closed.
 * PgBouncer 1.18 closes it only after the server has the cancel (and drops one whose statement already
 * ended); a refused or reset one delivered nothing. Either way no cancel is left on its way. It is
 * never closed from here before that, short of a long backstop: closing it early could let PgBouncer
 * hand the server connection to another client before PostgreSQL acts on the cancel.
 */
function sendCancel(
  target: { host: string; port: number; processID: number; secretKey: number },
  closed: () => void,
): void {
  const connection = new pg.Connection() as unknown as CancelConnection;
  // Refused or reset: the 'end' that follows says so; the caller's grace timer decides the rest.
  connection.on('error', () => {});
  const backstop = setTimeout(() => connection.stream.destroy(), CANCEL_SOCKET_BACKSTOP_MS);
  backstop.unref?.();
  connection.once('connect', () => connection.cancel(target.processID, target.secretKey));
  connection.once('end', () => {
    clearTimeout(backstop);
    closed();
  });
  if (target.host.startsWith('/')) connection.connect(`${target.host}/.s.PGSQL.${target.port}`);
  else connection.connect(target.port, target.host);
  connection.stream.unref?.(); // a cancel on its way never keeps the process alive
}

type Callback = (error: Error | undefined, result?: unknown) => void;

/** A pg Client class (for pg.Pool's `Client` option) whose statements are cancelled after `timeoutMs`. */
export function cancellingClient(timeoutMs: number, graceMs = CANCEL_GRACE_MS): typeof pg.Client {
  return class CancellingClient extends pg.Client {
    // biome-ignore lint/suspicious/noExplicitAny: pg's constructor takes a string or a config
    constructor(config?: any) {
      super(config);
      // This class is the timeout: pg's own (a `query_timeout` in the URL) would abandon the statement.
      (this as unknown as ClientInternals).connectionParameters.query_timeout = 0;
    }

    // biome-ignore lint/suspicious/noExplicitAny: pg's query() takes text, a config or a Submittable, with or without values and callback
    override query(config: any, values?: any, callback?: any): any {
      const client = this as unknown as ClientInternals;
      // A Submittable (a cursor, a stream) manages itself; pipelined queries cannot be taken out of
      // the queue one by one; no timeout configured: pg as is.
      if (!timeoutMs || config == null || typeof config.submit === 'function' || client.pipeline) {
        return super.query(config, values, callback);
      }
      const done: Callback | undefined = typeof values === 'function' ? values : callback;
      const parameters = typeof values === 'function' ? undefined : values;
      if (done === undefined) {
        return new Promise((resolve, reject) =>
          this.query(config, parameters, (error: Error | undefined, result: unknown) =>
            error ? reject(error) : resolve(result),
          ),
        );
      }
      if (typeof done !== 'function') return super.query(config, values, callback); // pg's TypeError

      let settled = false;
      let timedOut = false;
      let ended = false;
      let cancelsOpen = 0;
      let grace: ReturnType<typeof setTimeout> | undefined;
      let retry: ReturnType<typeof setTimeout> | undefined;
      const settle = (error: Error | undefined, result?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(grace);
        clearTimeout(retry);
        done(error, result);
      };
      // After a timeout the caller always gets the error, even when the result won the race with the
      // cancel: it was given up on. Reusable once the statement ended and no cancel is still on its way.
      const settleIfQuiet = () => {
        if (ended && cancelsOpen === 0) settle(new StatementTimedOut(timeoutMs, true));
      };
      const cancelUntilEnded = (target: Parameters<typeof sendCancel>[0]) => {
        if (settled || ended) return;
        cancelsOpen++;
        sendCancel(target, () => {
          cancelsOpen--;
          if (ended) settleIfQuiet();
          else if (!settled) retry = setTimeout(() => cancelUntilEnded(target), CANCEL_RETRY_MS);
        });
      };
      const query = new pg.Query(config, parameters, (error: Error | undefined, result: unknown) => {
        if (!timedOut) return settle(error, result);
        ended = true;
        settleIfQuiet();
      });
      const timer = setTimeout(() => {
        timedOut = true;
        const queued = client._queryQueue.indexOf(query);
        if (queued !== -1) {
          // Never sent (the connection was still busy or connecting): nothing to cancel.
          client._queryQueue.splice(queued, 1);
          settle(new StatementTimedOut(timeoutMs, true, false));
          return;
        }
        const { host, port, processID, secretKey } = client;
        if (processID === null || secretKey === null) {
          settle(new StatementTimedOut(timeoutMs, false));
          return;
        }
        grace = setTimeout(() => settle(new StatementTimedOut(timeoutMs, false)), graceMs);
        try {
          cancelUntilEnded({ host, port, processID, secretKey });
        } catch {
          settle(new StatementTimedOut(timeoutMs, false));
        }
      }, timeoutMs);
      try {
        super.query(query);
      } catch (error) {
        settle(error as Error);
      }
      return undefined;
    }
  };
}
