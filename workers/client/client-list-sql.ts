// The client-list page as one SQL statement: the page's rows and the total together, so a page is one
// round trip through the pooler and one pooled connection for one statement. Built with Prisma.sql
// tagged templates: every value is a bind parameter; the only SQL chosen in code is the ORDER BY, and
// it comes from the fixed table below, never from input. Safe in PgBouncer's transaction mode: one
// statement, no session state, and adapter-pg's unnamed prepared statements only.
import type { ClientSort, ClientStatus } from '../../shared/client-list-query.ts';
import { Prisma } from '../../shared/generated/prisma/client.ts';
import { escapeLikeWildcards } from '../../shared/repositories/like-pattern.ts';
import type { ListPosition } from './list-cursor.ts';

export interface ClientListStatementInput {
  ownerId: string;
  search?: string;
  status?: ClientStatus;
  sort: ClientSort;
  /** Rows to fetch: one more than the page shows tells whether another page follows. */
  fetch: number;
  offset: number;
  /** Keyset paging: only rows after this position in `sort` (list-cursor.ts). */
  after?: ListPosition;
}

/**
 * With a filter, matches are counted only for an owner with at most this many clients: the count then
 * visits a bounded number of rows. For a larger owner the page says how many it has seen instead
 * (client-list-page.ts), so a filtered page costs the same whatever the owner's size.
 */
export const COUNT_MATCHES_UP_TO_CLIENTS = 2_000;

/**
 * Used to pick the page and again to keep its order in the JSON array. id breaks ties so pages never
 * repeat or skip rows with equal sort keys; name is COLLATE "und-x-icu" (the column's own collation):
 * alphabetical whatever the case.
 */
export const ORDER: Record<ClientSort, Prisma.Sql> = {
  '-createdAt': Prisma.sql`created_at DESC, id DESC`,
  createdAt: Prisma.sql`created_at ASC, id ASC`,
  name: Prisma.sql`name ASC, id ASC`,
  '-name': Prisma.sql`name DESC, id DESC`,
};

/** Rows strictly after the cursor's row in the sort's order, as one index range (row comparison). */
const AFTER: Record<ClientSort, (after: ListPosition) => Prisma.Sql> = {
  '-createdAt': ({ value, id }) => Prisma.sql`(created_at, id) < (${value}::timestamptz, ${id}::uuid)`,
  createdAt: ({ value, id }) => Prisma.sql`(created_at, id) > (${value}::timestamptz, ${id}::uuid)`,
  name: ({ value, id }) => Prisma.sql`(name, id) > (${value}::text COLLATE "und-x-icu", ${id}::uuid)`,
  '-name': ({ value, id }) => Prisma.sql`(name, id) < (${value}::text COLLATE "und-x-icu", ${id}::uuid)`,
};

/** The owner and the optional status: what an index on owner_id can find. */
function ownerFilterFor(input: ClientListStatementInput): Prisma.Sql {
  const conditions = [Prisma.sql`owner_id = ${input.ownerId}::uuid`];
  if (input.status) conditions.push(Prisma.sql`status = ${input.status}::"ClientStatus"`);
  return Prisma.join(conditions, ' AND ');
}

/**
 * Case-insensitive substring on name, email or company: the pattern is folded by the same lower() that
 * filled search_text (see its migration), then compared byte by byte. LIKE's wildcards in the text are
 * literal.
 */
function searchConditionFor(search: string): Prisma.Sql {
  const pattern = `%${escapeLikeWildcards(search)}%`;
  return Prisma.sql`search_text LIKE (lower(${pattern}::text COLLATE "und-x-icu") COLLATE "C")`;
}

/** The owner, then the optional status and search: the same rows the page and the total see. */
function filterFor(input: ClientListStatementInput): Prisma.Sql {
  const owner = ownerFilterFor(input);
  return input.search ? Prisma.sql`${owner} AND ${searchConditionFor(input.search)}` : owner;
}

/**
 * The owner's clients (with the status, after the cursor), fenced (OFFSET 0) so that PostgreSQL finds
 * them by owner and only then tests the search on them. For an owner of a few thousand clients at most:
 * left to itself the planner may instead intersect the owner's index with the trigram index, and the
 * trigram side of that costs what the term matches in every owner (3.8 ms for "acme" here, against
 * 0.1 ms to test 50 rows).
 */
function ownedRows(where: Prisma.Sql, search: string): Prisma.Sql {
  return Prisma.sql`(SELECT id, name, created_at, search_text FROM clients WHERE ${where} OFFSET 0) AS owned
    WHERE ${searchConditionFor(search)}`;
}

const ownerTotalOf = (ownerId: string) =>
  Prisma.sql`coalesce((SELECT total FROM client_counts WHERE owner_id = ${ownerId}::uuid), 0)`;

/**
 * Unfiltered: the owner's row in client_counts, which triggers on clients keep (see its migration), so
 * one row is read however many clients the owner has; no row means no clients. Filtered: the matches
 * counted when the owner has at most COUNT_MATCHES_UP_TO_CLIENTS clients, NULL (not counted) otherwise.
 * The count is an InitPlan under the CASE, so it only runs when the CASE needs it.
 */
function totalFor(input: ClientListStatementInput, where: Prisma.Sql): Prisma.Sql {
  const ownerTotal = ownerTotalOf(input.ownerId);
  if (!input.search && !input.status) return ownerTotal;
  const matches = input.search
    ? Prisma.sql`SELECT count(*)::int FROM ${ownedRows(ownerFilterFor(input), input.search)}`
    : Prisma.sql`SELECT count(*)::int FROM clients WHERE ${where}`;
  return Prisma.sql`CASE WHEN ${ownerTotal} <= ${COUNT_MATCHES_UP_TO_CLIENTS} THEN (${matches}) END`;
}

/** ISO 8601 in UTC with milliseconds: exactly what Date.prototype.toISOString() writes. */
const isoTimestamp = (column: Prisma.Sql) =>
  Prisma.sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The page's rows as one JSON array in the answer's shape, from a subquery `page` in `order`. */
export function pageRowsJson(order: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`coalesce(json_agg(json_build_object(
      'id', id, 'ownerId', owner_id, 'name', name, 'email', email, 'phone', phone, 'company', company,
      'status', status, 'notes', notes,
      'createdAt', ${isoTimestamp(Prisma.sql`created_at`)}, 'updatedAt', ${isoTimestamp(Prisma.sql`updated_at`)}
    ) ORDER BY ${order}), '[]'::json)`;
}

/**
 * The ids of a page: found in the sort's index alone where it can be (an index-only scan, which tests
 * the filters on the columns the index carries), so what an OFFSET or a sparse filter walks past is
 * never read from the table. The page's own rows are then read by id.
 */
export function pageIds(where: Prisma.Sql, order: Prisma.Sql, fetch: number, offset: Prisma.Sql | number) {
  return Prisma.sql`SELECT id FROM clients WHERE ${where} ORDER BY ${order} LIMIT ${fetch} OFFSET ${offset}`;
}

export const PAGE_COLUMNS = Prisma.sql`id, owner_id, name, email, phone, company, status, notes, created_at, updated_at`;

/**
 * One row: the total (see totalFor), and the page as one JSON array already in the response's shape (names, ISO
 * timestamps), so neither Prisma nor we map the rows column by column. A page past the end is an
 * empty array next to the total. A plain SELECT (no CTE), so a read that loses its connection is
 * still retried once (shared/retrying-reads-adapter.ts).
 */
export function clientListStatement(input: ClientListStatementInput): Prisma.Sql {
  const where = filterFor(input);
  const order = ORDER[input.sort];
  const after = input.after ? AFTER[input.sort](input.after) : undefined;
  const pageWhere = after ? Prisma.sql`${where} AND ${after}` : where;
  const rowsOf = (ids: Prisma.Sql) => Prisma.sql`(SELECT ${pageRowsJson(order)}
       FROM (SELECT ${PAGE_COLUMNS} FROM clients WHERE id IN (${ids})) AS page)`;
  const plannedIds = pageIds(pageWhere, order, input.fetch, input.offset);
  let rows = rowsOf(plannedIds);
  if (input.search) {
    // A searched page of a small owner walks the owner's rows (ownedRows); a large owner's is left to
    // the planner: walking the sort's index for a common term, the trigram index for a rare one.
    const ownerWhere = after ? Prisma.sql`${ownerFilterFor(input)} AND ${after}` : ownerFilterFor(input);
    const ownedIds = Prisma.sql`SELECT id FROM ${ownedRows(ownerWhere, input.search)}
      ORDER BY ${order} LIMIT ${input.fetch} OFFSET ${input.offset}`;
    rows = Prisma.sql`CASE WHEN ${ownerTotalOf(input.ownerId)} <= ${COUNT_MATCHES_UP_TO_CLIENTS}
      THEN ${rowsOf(ownedIds)} ELSE ${rows} END`;
  }
  return Prisma.sql`
    SELECT
      ${totalFor(input, where)} AS total,
      ${rows} AS rows`;
}
