// A read whose connection died under it (PgBouncer or PostgreSQL restarted, a reset link) is sent once
// more, on a fresh connection from the pool; a write never is, since it may have been applied before
// the connection went. This wraps the driver adapter rather than the Prisma client so it sees every
// statement as SQL and knows whether it runs inside a transaction: statements of a transaction go
// through the transaction object, never through the adapter's own queryRaw, so they are not retried
// (a transaction that lost its connection has lost its work; only its caller can start it again).
//
// Hand-written: Prisma 7 has no retry setting, and pg retries nothing (FACTS.md).
import type { SqlDriverAdapterFactory, SqlQuery } from '@prisma/driver-adapter-utils';
import { connectionDiedUnderStatement } from './db-failures.ts';

/** A plain SELECT: not `SELECT ... FOR UPDATE`, not a CTE that might write. */
export function isRetryableRead(sql: string): boolean {
  return /^\s*SELECT\b/i.test(sql) && !/\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE|KEY\s+SHARE)\b/i.test(sql);
}

export function retryReadsOnce(
  factory: SqlDriverAdapterFactory,
  onRetry: (error: unknown) => void = () => {},
): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect() {
      const adapter = await factory.connect();
      const queryRaw = adapter.queryRaw.bind(adapter);
      adapter.queryRaw = async (query: SqlQuery) => {
        try {
          return await queryRaw(query);
        } catch (error) {
          if (!isRetryableRead(query.sql) || !connectionDiedUnderStatement(error)) throw error;
          onRetry(error);
          return queryRaw(query);
        }
      };
      return adapter;
    },
  };
}
