// Which database errors mean "the connection, the pooler or the server went away": the request may
// succeed later, so it is a 503 DB_UNAVAILABLE with Retry-After, never a 500. Everything else (a
// constraint, a bad statement, a bug) is left to the caller. Pure: unit-tested in db-failures.test.ts.
//
// Errors arrive in several wrappings, depending on where they happened: pg's own Error (a socket that
// ended: "Connection terminated unexpectedly"), a DriverAdapterError from @prisma/adapter-pg with
// `{ kind, code }` as its cause, or Prisma's PrismaClientKnownRequestError (P2039, P1001, ...) with
// the adapter's error in `meta.driverAdapterError`. So every test below walks all of them.

/**
 * SQLSTATEs of a lost or refused connection: class 08 (connection exception, which is also what
 * PgBouncer sends for its own refusals: `08P01 server login has been failing`), 57P01-57P03 (admin
 * shutdown, crash shutdown, cannot connect now: a PostgreSQL restart) and 53300 (too many connections).
 */
const CONNECTION_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/**
 * 57014 query_canceled: the server stopped the statement (a role's or database's `statement_timeout`,
 * as managed platforms set them, or an operator's pg_cancel_backend). The request may succeed later,
 * so it is a 503 as well, never a 500; not a lost connection, so a read is not sent again for it.
 */
const CANCELLED_SQLSTATE = '57014';

/** @prisma/adapter-pg's names for the same situations. */
const CONNECTION_KINDS = new Set(['ConnectionClosed', 'DatabaseNotReachable', 'SocketTimeout', 'TooManyConnections']);

/** The same, as text, for errors that carry no code (pg's socket errors, PgBouncer's messages, Prisma's P1001/P1017). */
const CONNECTION_TEXT =
  /MaxClientsInSessionMode|max clients reached|no more connections allowed|too many clients|remaining connection slots|Can't reach database server|ECONNREFUSED|ECONNRESET|Connection terminated|server closed the connection|terminating connection|DatabaseNotReachable|TooManyConnections|query_wait_timeout|pgbouncer cannot connect|server login has been failing|server conn crashed|the database system is (starting up|shutting down|in recovery mode)|Query read timeout|is not queryable/i;

const POOL_TIMEOUT_TEXT =
  /timeout exceeded when trying to connect|Timed out fetching a new connection|Unable to start a transaction in the given time/i;

/** A connection that died under a statement (as opposed to one that could not be had at all). */
const DIED_UNDER_STATEMENT_SQLSTATE = /^(57P0[12]|08003|08006)$/;
// pg's "Client has encountered a connection error and is not queryable": a pooled client whose
// connection failed just before the statement was handed to it (seen in the fault suite during a
// PostgreSQL restart); nothing was sent, so a fresh connection may take it.
const DIED_UNDER_STATEMENT_TEXT =
  /Connection terminated unexpectedly|server closed the connection unexpectedly|terminating connection|server conn crashed|ECONNRESET|is not queryable/i;

interface ErrorLink {
  name?: unknown;
  code?: unknown;
  kind?: unknown;
  originalCode?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown };
}

/** Every object in an error's wrappings: its cause chain and Prisma's meta.driverAdapterError. */
function* links(error: unknown, depth = 0): Generator<ErrorLink> {
  if (!error || typeof error !== 'object' || depth > 8) return;
  const link = error as ErrorLink;
  yield link;
  yield* links(link.cause, depth + 1);
  yield* links(link.meta?.driverAdapterError, depth + 1);
}

const sqlstateOf = (link: ErrorLink) =>
  [link.code, link.originalCode].find((code): code is string => typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code));

export type DatabaseFailure = 'pool-timeout' | 'unavailable';

/** Pool exhaustion (DB_POOL_TIMEOUT), a lost or refused connection (DB_UNAVAILABLE), or neither. */
export function classifyDatabaseFailure(error: unknown): DatabaseFailure | undefined {
  let unavailable = false;
  for (const link of links(error)) {
    const message = typeof link.message === 'string' ? link.message : '';
    if (link.code === 'P2024' || POOL_TIMEOUT_TEXT.test(message)) return 'pool-timeout';
    // Prisma's interactive transactions: no connection within maxWait ("Unable to start a
    // transaction"), or a transaction that outlived its timeout while the database hung.
    if (link.code === 'P2028') return /unable to start a transaction/i.test(message) ? 'pool-timeout' : 'unavailable';
    const sqlstate = sqlstateOf(link);
    if (
      link.code === 'P1001' ||
      link.code === 'P1017' ||
      (sqlstate && (CONNECTION_SQLSTATE.test(sqlstate) || sqlstate === CANCELLED_SQLSTATE)) ||
      (typeof link.kind === 'string' && CONNECTION_KINDS.has(link.kind)) ||
      CONNECTION_TEXT.test(message)
    ) {
      unavailable = true;
    }
  }
  return unavailable ? 'unavailable' : undefined;
}

/**
 * The connection a statement ran on died while it ran (a pooler or server restart, a reset): the
 * statement may or may not have been applied. A read can be sent again on a fresh connection; a write
 * must not be (see retrying-reads-adapter.ts).
 */
export function connectionDiedUnderStatement(error: unknown): boolean {
  for (const link of links(error)) {
    const sqlstate = sqlstateOf(link);
    if (sqlstate && DIED_UNDER_STATEMENT_SQLSTATE.test(sqlstate)) return true;
    if (link.kind === 'ConnectionClosed') return true;
    if (typeof link.message === 'string' && DIED_UNDER_STATEMENT_TEXT.test(link.message)) return true;
  }
  return false;
}

/**
 * A statement passed DB_QUERY_TIMEOUT and may still be running on its connection (its cancel was not
 * confirmed in time, shared/cancelling-pg-client.ts, or pg's own query_timeout gave up waiting):
 * whatever is sent on that connection next would wait behind it. A cancelled one is not: it ended.
 */
export function statementAbandonedByQueryTimeout(error: unknown): boolean {
  for (const link of links(error)) {
    if (typeof link.message === 'string' && /Query read timeout/i.test(link.message)) {
      return (link as { connectionReusable?: unknown }).connectionReusable !== true;
    }
  }
  return false;
}
