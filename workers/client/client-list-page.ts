// One client-list page from one statement (client-list-sql.ts), whatever runs it: the repository runs it
// through Prisma, the bench's plain-pg variant (tools/bench/plain-pg-client-list.ts) through pg, so
// the two differ only in the client. One row more than the page is fetched to know whether another
// follows; `next` then continues after the page's last row. A deep page by number starts from the
// owner's page marks (page-marks.ts) when they are current, and by OFFSET otherwise (one more statement).
import type { ClientListPage, ClientStatus } from '../../shared/client-list-query.ts';
import type { Prisma } from '../../shared/generated/prisma/client.ts';
import { clientListStatement } from './client-list-sql.ts';
import type { ClientListQuery } from './client-repository.ts';
import { decodeListCursor, encodeListCursor } from './list-cursor.ts';
import { MARK_EVERY, type MarkedOrder, markedOrderOf, markedPageStatement } from './page-marks.ts';

/** A client as the list answers it: timestamps already ISO strings (see client-list-sql.ts). */
export interface ClientListItem {
  id: string;
  ownerId: string;
  name: string;
  email: string | null;
  phone: string | null;
  company: string | null;
  status: ClientStatus;
  notes: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Runs a statement and returns its rows: one row, the total and the rows as parsed JSON (none: no marks). */
export type RunClientListStatement = (
  statement: Prisma.Sql,
) => Promise<{ total: number | null; rows: ClientListItem[] }[]>;

export interface ClientListPageOptions {
  /** Asked when a deep page found no current page marks (page-marks.ts); absent: never asked. */
  requestMarks?: (ownerId: string, order: MarkedOrder) => void;
}

export async function readClientListPage(
  query: ClientListQuery,
  run: RunClientListStatement,
  options: ClientListPageOptions = {},
): Promise<ClientListPage<ClientListItem>> {
  const after = query.after ? decodeListCursor(query.after, query.sort) : undefined;
  const offset = after ? 0 : (query.page - 1) * query.limit;
  const fetch = query.limit + 1;
  const filtered = Boolean(query.search || query.status);
  let found: { total: number | null; rows: ClientListItem[] } | undefined;
  if (!after && !filtered && offset >= MARK_EVERY) {
    [found] = await run(markedPageStatement({ ownerId: query.ownerId, sort: query.sort, offset, fetch }));
    if (!found) options.requestMarks?.(query.ownerId, markedOrderOf(query.sort));
  }
  if (!found) [found] = await run(clientListStatement({ ...query, after, offset, fetch }));
  if (!found) throw new Error('the client-list statement returned no row');
  const rows = found.rows.slice(0, query.limit);
  const page: ClientListPage<ClientListItem> = { rows, total: found.total ?? 0 };
  if (found.total === null) {
    // Matches not counted (a filter on a large owner, see COUNT_MATCHES_UP_TO_CLIENTS): the total is the
    // rows seen so far, exact on the last page by number, "at least" before it, and "at least" on every
    // page after a cursor (nothing before it was counted). Past the end none were seen: at least 0.
    const pastTheEnd = found.rows.length === 0 && offset > 0;
    page.total = pastTheEnd ? 0 : offset + found.rows.length;
    if (pastTheEnd || after || found.rows.length > query.limit) page.totalIsLowerBound = true;
  }
  const last = rows.at(-1);
  if (found.rows.length > query.limit && last) page.next = encodeListCursor(query.sort, last);
  return page;
}
