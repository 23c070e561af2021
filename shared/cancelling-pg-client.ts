// DB_QUERY_TIMEOUT that stops the statement, not only the wait for it.
//
// pg's own `query_timeout` gives up waiting and leaves the statement running. pg-pool then closes the
// connection. PgBouncer closes its server connection mid-statement and opens another for the next
// client. PostgreSQL now runs one backend more than the pool: the abandoned one, busy until its
// statement ends (the bench saw 16 backends on a pool of 15). Under overload the abandoned statements
// are work nobody waits for, on the database that is already short of time.
//
// This pg Client asks the server to cancel a statement that outlives the timeout (a CancelRequest,
// which PgBouncer forwards to the server running it). It fails the query once the statement has ended
// and the cancel has been delivered; the connection is then idle on the server, and closing it or
// rolling back on it leaves nothing running. When that does not happen within CANCEL_GRACE_MS (a paused
// pooler, a cut link), the query fails anyway and the connection is marked not reusable, as before.
//
// Hand-written: pg has no cancelling timeout, and its `cancel()` neither reports when the cancel went
// out nor avoids the deprecated `activeQuery` getter. The cancel packet itself is pg's (Connection.cancel).
import pg from 'pg';

/** How long a timed-out statement may take to end after its cancel was sent, before the connection is given up. */
export const CANCEL_GRACE_MS = 1_000;

/** The error a statement past DB_QUERY_TIMEOUT fails with; the message is what db-failures.ts matches. */
export class StatementTimedOut extends Error {
  override name = 'StatementTimedOut';
  constructor(
    readonly timeoutMs: number,
    /** True when the statement ended (or never started) and its cancel was delivered: nothing runs on the connection. */
    readonly connectionReusable: boolean,
  ) {
    super(
      `Query read timeout: no answer within ${timeoutMs} ms; ${
        connectionReusable
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
  _queryQueue: unknown[];
}

interface CancelConnection {
  stream: { destroy(): void };
  on(event: string, listener: (...args: unknown[]) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  connect(portOrPath: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
}

/**
 * Sends a CancelRequest for `client`'s running statement on a connection of its own, as the protocol
 * requires; calls `delivered` once the server (or PgBouncer) has taken it and closed that connection.
 */
function sendCancel(client: ClientInternals, graceMs: number, delivered: () => void): void {
  if (client.processID === null || client.secretKey === null) return;
  const { processID, secretKey } = client;
  const connection = new pg.Connection() as unknown as CancelConnection;
  // A pooler that is down or paused: the grace timer decides; the socket must not outlive it.
  connection.on('error', () => {});
  const giveUp = setTimeout(() => connection.stream.destroy(), graceMs);
  connection.once('connect', () => connection.cancel(processID, secretKey));
  connection.once('end', () => {
    clearTimeout(giveUp);
    delivered();
  });
  if (client.host.startsWith('/')) connection.connect(`${client.host}/.s.PGSQL.${client.port}`);
  else connection.connect(client.port, client.host);
}

type Callback = (error: Error | undefined, result?: unknown) => void;

/** A pg Client class (for pg.Pool's `Client` option) whose statements are cancelled after `timeoutMs`. */
export function cancellingClient(timeoutMs: number, graceMs = CANCEL_GRACE_MS): typeof pg.Client {
  return class CancellingClient extends pg.Client {
    // biome-ignore lint/suspicious/noExplicitAny: pg's query() takes text, a config or a Submittable, with or without values and callback
    override query(config: any, values?: any, callback?: any): any {
      // A Submittable (a cursor, a stream) manages itself; no timeout configured: pg as is.
      if (!timeoutMs || config == null || typeof config.submit === 'function') {
        return super.query(config, values, callback);
      }
      const done: Callback | undefined = typeof values === 'function' ? values : callback;
      const parameters = typeof values === 'function' ? undefined : values;
      if (!done) {
        return new Promise((resolve, reject) =>
          this.query(config, parameters, (error: Error | undefined, result: unknown) =>
            error ? reject(error) : resolve(result),
          ),
        );
      }

      let settled = false;
      let timedOut = false;
      let ended = false;
      let cancelDelivered = false;
      let grace: ReturnType<typeof setTimeout> | undefined;
      const settle = (error: Error | undefined, result?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(grace);
        done(error, result);
      };
      // After a timeout the caller always gets the error, even when the result won the race with the
      // cancel: it was given up on, and the pool then closes a connection that is idle on the server.
      const settleTimedOut = () => {
        if (ended && cancelDelivered) settle(new StatementTimedOut(timeoutMs, true));
      };
      const query = new pg.Query(config, parameters, (error: Error | undefined, result: unknown) => {
        if (!timedOut) return settle(error, result);
        ended = true;
        settleTimedOut();
      });
      const timer = setTimeout(() => {
        timedOut = true;
        const client = this as unknown as ClientInternals;
        const queued = client._queryQueue.indexOf(query);
        if (queued !== -1) {
          // Never sent (the connection was still busy or connecting): nothing to cancel.
          client._queryQueue.splice(queued, 1);
          settle(new StatementTimedOut(timeoutMs, true));
          return;
        }
        grace = setTimeout(() => settle(new StatementTimedOut(timeoutMs, false)), graceMs);
        sendCancel(client, graceMs, () => {
          cancelDelivered = true;
          settleTimedOut();
        });
      }, timeoutMs);
      super.query(query);
      return undefined;
    }
  };
}
