// Bench-only: the client-list page of workers/client/client-repository.ts on plain `pg`, running the
// very statement the repository sends through Prisma (clientListStatement) and shaping the answer the
// same way, so a comparison of the two measures Prisma's own cost and nothing else.
import type pg from 'pg';
import { clientListStatement } from '../../workers/client/client-list-sql.ts';
import type { ClientListQuery } from '../../workers/client/client-repository.ts';

export function createPlainPgClientList(pool: pg.Pool) {
  return {
    async listForOwner(query: ClientListQuery) {
      const statement = clientListStatement({ ...query, offset: (query.page - 1) * query.limit });
      const { rows } = await pool.query(statement.text, statement.values);
      return { rows: rows[0].rows as unknown[], total: rows[0].total as number };
    },
  };
}
