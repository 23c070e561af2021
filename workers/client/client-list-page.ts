// One client-list page from one statement (client-list-sql.ts), whatever runs it: the repository runs it
// through Prisma, the bench's plain-pg variant (tools/bench/plain-pg-client-list.ts) through pg, so
// the two differ only in the client. One row more than the page is fetched to know whether another
// follows; `next` then continues after the page's last row.
import type { ClientListPage, ClientStatus } from '../../shared/client-list-query.ts';
import type { Prisma } from '../../shared/generated/prisma/client.ts';
import { clientListStatement, EXACT_TOTAL_UP_TO } from './client-list-sql.ts';
import type { ClientListQuery } from './client-repository.ts';
import { decodeListCursor, encodeListCursor } from './list-cursor.ts';

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

/** Runs the statement and returns its one row: the capped total and the rows as parsed JSON. */
export type RunClientListStatement = (statement: Prisma.Sql) => Promise<{ total: number; rows: ClientListItem[] }[]>;

export async function readClientListPage(
  query: ClientListQuery,
  run: RunClientListStatement,
): Promise<ClientListPage<ClientListItem>> {
  const after = query.after ? decodeListCursor(query.after, query.sort) : undefined;
  const offset = after ? 0 : (query.page - 1) * query.limit;
  const [found] = await run(clientListStatement({ ...query, after, offset, fetch: query.limit + 1 }));
  if (!found) throw new Error('the client-list statement returned no row');
  const rows = found.rows.slice(0, query.limit);
  const page: ClientListPage<ClientListItem> = { rows, total: found.total };
  if (found.total > EXACT_TOTAL_UP_TO) {
    // Counting on would cost in proportion to the owner's size: say "at least" instead.
    page.total = Math.max(EXACT_TOTAL_UP_TO, offset + found.rows.length);
    page.totalIsLowerBound = true;
  }
  const last = rows.at(-1);
  if (found.rows.length > query.limit && last) page.next = encodeListCursor(query.sort, last);
  return page;
}
