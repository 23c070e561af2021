// Bench-only: the client-list page of workers/client/client-repository.ts on plain `pg`, running the
// very statement the repository sends through Prisma and shaping the answer with the same code
// (readClientListPage), so a comparison of the two measures Prisma's own cost and nothing else.
import type pg from 'pg';
import { readClientListPage } from '../../workers/client/client-list-page.ts';
import type { ClientListQuery } from '../../workers/client/client-repository.ts';

export function createPlainPgClientList(pool: pg.Pool) {
  return {
    listForOwner(query: ClientListQuery) {
      return readClientListPage(query, async (statement) => (await pool.query(statement.text, statement.values)).rows);
    },
  };
}
