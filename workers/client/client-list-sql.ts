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
 * The total is counted exactly up to here, and this many plus one at most: past it, a count would cost
 * in proportion to the owner's size on every page. The answer then says the total is a lower bound.
 */
export const EXACT_TOTAL_UP_TO = 10_000;

/**
 * Used to pick the page and again to keep its order in the JSON array. id breaks ties so pages never
 * repeat or skip rows with equal sort keys; name is COLLATE "und-x-icu" (the column's own collation):
 * alphabetical whatever the case.
 */
const ORDER: Record<ClientSort, Prisma.Sql> = {
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
    // Case-insensitive substring on name, email or company; LIKE's wildcards in the text are literal.
    const pattern = `%${escapeLikeWildcards(input.search)}%`;
    conditions.push(Prisma.sql`(name ILIKE ${pattern} OR email ILIKE ${pattern} OR company ILIKE ${pattern})`);
  }
  return Prisma.join(conditions, ' AND ');
}

/**
 * The total, capped at EXACT_TOTAL_UP_TO + 1 either way. Unfiltered: the owner's row in client_counts,
 * which triggers on clients keep (see its migration), so one row is read however many clients the owner
 * has; no row means no clients. Filtered: matching rows counted, stopping after the cap.
 */
function totalFor(input: ClientListStatementInput, where: Prisma.Sql): Prisma.Sql {
  if (!input.search && !input.status) {
    return Prisma.sql`coalesce((SELECT least(total, ${EXACT_TOTAL_UP_TO + 1}) FROM client_counts
      WHERE owner_id = ${input.ownerId}::uuid), 0)`;
  }
  return Prisma.sql`(SELECT count(*)::int FROM (SELECT 1 FROM clients WHERE ${where} LIMIT ${EXACT_TOTAL_UP_TO + 1}) AS capped)`;
}

/** ISO 8601 in UTC with milliseconds: exactly what Date.prototype.toISOString() writes. */
const isoTimestamp = (column: Prisma.Sql) =>
  Prisma.sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * One row: the total (capped, see EXACT_TOTAL_UP_TO), and the page as one JSON array already in the response's shape (names, ISO
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
      (SELECT coalesce(json_agg(json_build_object(
          'id', id, 'ownerId', owner_id, 'name', name, 'email', email, 'phone', phone, 'company', company,
          'status', status, 'notes', notes,
          'createdAt', ${isoTimestamp(Prisma.sql`created_at`)}, 'updatedAt', ${isoTimestamp(Prisma.sql`updated_at`)}
        ) ORDER BY ${order}), '[]'::json)
       FROM (
         SELECT id, owner_id, name, email, phone, company, status, notes, created_at, updated_at
         FROM clients WHERE ${pageWhere}
         ORDER BY ${order} LIMIT ${input.fetch} OFFSET ${input.offset}
       ) AS page) AS rows`;
}
