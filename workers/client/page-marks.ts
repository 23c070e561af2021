// Page marks: a page by number far into a large owner's clients without an OFFSET over every row
// before it. Every MARK_EVERY-th row of the owner's clients in created_at order and in name order
// (ascending, the id breaking ties) is kept in client_page_marks with its position, for one version of
// the owner's clients (client_counts.version, moved by the triggers on every write that can move a row:
// see the migration). A deep page starts at the nearest mark at or before it in the page's order and
// skips fewer than MARK_EVERY rows. A descending sort counts the same positions from the other end,
// with the exact total from client_counts, so one set of marks serves both directions.
//
// Marks are rebuilt on demand, off the request (a page that finds none answers by OFFSET and asks for
// them), one build at a time per owner and order (a transaction-scoped advisory lock, so safe through
// PgBouncer's transaction mode), and at most once per REBUILD_COOLDOWN_MS in each process: an owner
// whose clients change all the time pages by OFFSET until they rest. A build reads the version and the
// rows in one statement, so its marks are exact for the version they are stored under; a write that
// commits during the build moves the version and leaves them unread.
import type { ClientSort } from '../../shared/client-list-query.ts';
import { Prisma } from '../../shared/generated/prisma/client.ts';
import { ORDER, PAGE_COLUMNS, pageIds, pageRowsJson } from './client-list-sql.ts';

export const MARK_EVERY = 500;
const REBUILD_COOLDOWN_MS = 10_000;
/**
 * After a build that failed (most likely one that outgrew DB_QUERY_TIMEOUT: a tenant of several million
 * clients), the same owner and order are not tried again for this long: every try costs the database
 * the whole numbering, and its deep pages answer by OFFSET meanwhile anyway.
 */
const FAILED_BUILD_BACKOFF_MS = 30 * REBUILD_COOLDOWN_MS;

export type MarkedOrder = 'createdAt' | 'name';

export const markedOrderOf = (sort: ClientSort): MarkedOrder => (sort.endsWith('name') ? 'name' : 'createdAt');

/** The column a mark keeps for its order; chosen from this fixed table, never from input. */
const KEY_COLUMN: Record<MarkedOrder, Prisma.Sql> = {
  createdAt: Prisma.sql`created_at`,
  name: Prisma.sql`name`,
};

/**
 * One row (the owner's exact total and the page as JSON), or no row when the owner has no current
 * marks: the caller then reads the page by OFFSET. Ascending: the last mark at or before the page's
 * first row, then forward from it. Descending: the page's first row is at ascending position
 * total - 1 - offset; the first mark at or after it, then backward from it. A page past the end
 * comes back empty, with the total.
 */
export function markedPageStatement(input: { ownerId: string; sort: ClientSort; offset: number; fetch: number }) {
  const order = markedOrderOf(input.sort);
  const key = KEY_COLUMN[order];
  const descending = input.sort.startsWith('-');
  const target = descending ? Prisma.sql`counts.total - 1 - ${input.offset}::int` : Prisma.sql`${input.offset}::int`;
  const markCondition = descending
    ? Prisma.sql`mark.position >= ${target} ORDER BY mark.position ASC`
    : Prisma.sql`mark.position <= ${target} ORDER BY mark.position DESC`;
  const fromMark = descending ? Prisma.sql`<=` : Prisma.sql`>=`;
  const fromStart = Prisma.sql`owner_id = ${input.ownerId}::uuid AND (${key}, id) ${fromMark} (start.key, start.id)`;
  const skip = descending ? Prisma.sql`start.position - (${target})` : Prisma.sql`${target} - start.position`;
  return Prisma.sql`
    SELECT counts.total,
      (SELECT ${pageRowsJson(ORDER[input.sort])}
       FROM (
         SELECT ${PAGE_COLUMNS} FROM clients WHERE id IN (${pageIds(fromStart, ORDER[input.sort], input.fetch, skip)})
       ) AS page) AS rows
    FROM client_counts AS counts
    CROSS JOIN LATERAL (
      SELECT mark.position, mark.${key} AS key, mark.id FROM client_page_marks AS mark
      WHERE mark.owner_id = counts.owner_id AND mark.sort_key = ${order} AND mark.version = counts.version
        AND ${markCondition} LIMIT 1
    ) AS start
    WHERE counts.owner_id = ${input.ownerId}::uuid`;
}

/**
 * The owner's marks in `order` for the current version: the version and the rows from one snapshot.
 * Does nothing when a set for that version exists already (another build got there first).
 */
export function buildMarksStatement(ownerId: string, order: MarkedOrder) {
  const key = KEY_COLUMN[order];
  return Prisma.sql`
    INSERT INTO client_page_marks (owner_id, sort_key, version, position, ${key}, id)
    SELECT counts.owner_id, ${order}, counts.version, numbered.position, numbered.key, numbered.id
    FROM client_counts AS counts
    CROSS JOIN LATERAL (
      SELECT row_number() OVER (ORDER BY ${key} ASC, id ASC) - 1 AS position, ${key} AS key, id
      FROM clients WHERE owner_id = counts.owner_id
    ) AS numbered
    WHERE counts.owner_id = ${ownerId}::uuid AND numbered.position % ${MARK_EVERY} = 0
      AND NOT EXISTS (
        SELECT 1 FROM client_page_marks AS built
        WHERE built.owner_id = counts.owner_id AND built.sort_key = ${order} AND built.version = counts.version
      )`;
}

/** Marks of versions that are no longer the owner's: never read again. */
export function dropOldMarksStatement(ownerId: string, order: MarkedOrder) {
  return Prisma.sql`
    DELETE FROM client_page_marks AS mark
    WHERE mark.owner_id = ${ownerId}::uuid AND mark.sort_key = ${order}
      AND mark.version IS DISTINCT FROM (SELECT version FROM client_counts WHERE owner_id = ${ownerId}::uuid)`;
}

/** Runs one build in a transaction; resolves false when another build holds the lock. */
export type BuildMarks = (ownerId: string, order: MarkedOrder) => Promise<boolean>;

/**
 * Asks for a build, at most once per owner and order per cool-down and one at a time in this process;
 * never waits for it and never fails the page that asked (a failed build is logged, and the next ask for
 * that owner and order waits FAILED_BUILD_BACKOFF_MS).
 */
export function createMarksRebuilder(
  build: BuildMarks,
  onError: (error: unknown) => void,
  cooldownMs = REBUILD_COOLDOWN_MS,
  failedBackoffMs = FAILED_BUILD_BACKOFF_MS,
) {
  const lastAsked = new Map<string, number>();
  const inFlight = new Map<string, Promise<boolean>>();
  return {
    request(ownerId: string, order: MarkedOrder): void {
      const name = `${ownerId}:${order}`;
      const now = Date.now();
      // One build at a time in a process (this owner's or another's): each holds one of the worker's few
      // pooled connections for as long as it numbers the rows. An ask not taken is simply asked again.
      if (inFlight.size > 0 || now - (lastAsked.get(name) ?? -Infinity) < cooldownMs) return;
      if (lastAsked.size > 10_000) {
        // Forget owners whose cool-down is over: the map stays as small as the recent askers.
        for (const [asked, at] of lastAsked) if (now - at >= cooldownMs) lastAsked.delete(asked);
      }
      lastAsked.set(name, now);
      const building = build(ownerId, order)
        .catch((error) => {
          onError(error);
          lastAsked.set(name, Date.now() + failedBackoffMs - cooldownMs);
          return false;
        })
        .finally(() => inFlight.delete(name));
      inFlight.set(name, building);
    },
    /** Resolves when the builds asked for so far have ended (tests and shutdown). */
    async settled(): Promise<void> {
      await Promise.all(inFlight.values());
    },
  };
}
