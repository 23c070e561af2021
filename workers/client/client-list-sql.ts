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

/** The owner, then the optional status and search: the same rows the page and the total see. */
function filterFor(input: ClientListStatementInput): Prisma.Sql {
  const conditions = [Prisma.sql`owner_id = ${input.ownerId}::uuid`];
  if (input.status) conditions.push(Prisma.sql`status = ${input.status}::"ClientStatus"`);
  if (input.search) {
    // Case-insensitive substring on name, email or company: the pattern is folded by the same lower()
    // that filled search_text (see its migration), then compared byte by byte. LIKE's wildcards in
    // the text are literal.
    const pattern = `%${escapeLikeWildcards(input.search)}%`;
    conditions.push(Prisma.sql`search_text LIKE (lower(${pattern}::text COLLATE "und-x-icu") COLLATE "C")`);
  }
  return Prisma.join(conditions, ' AND ');
}

/**
 * Unfiltered: the owner's row in client_counts, which triggers on clients keep (see its migration), so
 * one row is read however many clients the owner has; no row means no clients. Filtered: the matches
 * counted when the owner has at most COUNT_MATCHES_UP_TO_CLIENTS clients, NULL (not counted) otherwise.
 * The count is an InitPlan under the CASE, so it only runs when the CASE needs it.
 */
function totalFor(input: ClientListStatementInput, where: Prisma.Sql): Prisma.Sql {
  const ownerTotal = Prisma.sql`coalesce((SELECT total FROM client_counts WHERE owner_id = ${input.ownerId}::uuid), 0)`;
  if (!input.search && !input.status) return ownerTotal;
  return Prisma.sql`CASE WHEN ${ownerTotal} <= ${COUNT_MATCHES_UP_TO_CLIENTS}
    THEN (SELECT count(*)::int FROM clients WHERE ${where}) END`;
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
  const pageWhere = input.after ? Prisma.sql`${where} AND ${AFTER[input.sort](input.after)}` : where;
  return Prisma.sql`
    SELECT
      ${totalFor(input, where)} AS total,
      (SELECT ${pageRowsJson(order)}
       FROM (SELECT ${PAGE_COLUMNS} FROM clients WHERE id IN (${pageIds(pageWhere, order, input.fetch, input.offset)})
       ) AS page) AS rows`;
}
