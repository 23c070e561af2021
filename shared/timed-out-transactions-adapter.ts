// A statement of an interactive transaction that outlives DB_QUERY_TIMEOUT: pg gives up waiting and
// fails it, but the statement goes on running on that connection (query_timeout is client-side; a
// paused pooler or a slow plan does not stop because we stopped listening). @prisma/adapter-pg then
// releases the transaction's client to the pool as healthy, so the next request borrows a connection
// that is still busy, and its own statement queues behind the old one and times out too: one slow
// statement becomes a run of failures (shared/transaction-timeout.test.ts shows it).
//
// Outside transactions this does not happen: pg-pool destroys a client whose pool.query failed.
// Inside, this wrapper closes the connection as soon as one of its statements is abandoned, so what
// follows on it (Prisma's ROLLBACK) fails at once and pg-pool, seeing it closed, drops it instead of
// lending it again. The server side ends with the socket: PgBouncer drops a server connection whose
// client left mid-transaction.
//
// Hand-written: neither pg nor @prisma/adapter-pg has a setting for it (pg's query_timeout neither
// cancels the statement nor marks the client; the adapter's commit and rollback release it as healthy).
import type { SqlDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import { statementAbandonedByQueryTimeout } from './db-failures.ts';

/** The pg client under a transaction of @prisma/adapter-pg (its protected `client` field). */
interface WithPgClient {
  client?: { end(): Promise<void> };
}

function closeWhenAbandoned(transaction: Transaction): Transaction {
  const { client } = transaction as unknown as WithPgClient;
  if (!client) return transaction;
  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (statementAbandonedByQueryTimeout(error)) void client.end().catch(() => {});
      throw error;
    }
  };
  const queryRaw = transaction.queryRaw.bind(transaction);
  const executeRaw = transaction.executeRaw.bind(transaction);
  transaction.queryRaw = (query: SqlQuery) => guard(() => queryRaw(query));
  transaction.executeRaw = (query: SqlQuery) => guard(() => executeRaw(query));
  return transaction;
}

export function closeTimedOutTransactions(factory: SqlDriverAdapterFactory): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect() {
      const adapter = await factory.connect();
      const startTransaction = adapter.startTransaction.bind(adapter);
      adapter.startTransaction = async (isolationLevel) => closeWhenAbandoned(await startTransaction(isolationLevel));
      return adapter;
    },
  };
}
