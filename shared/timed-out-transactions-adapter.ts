// A statement of an interactive transaction that outlives DB_QUERY_TIMEOUT and whose cancel the server
// did not confirm in time (shared/cancelling-pg-client.ts: a paused pooler, a cut link). It may still
// be running on that connection, yet @prisma/adapter-pg releases the transaction's client to the pool
// as healthy, so the next request would borrow a connection that is still busy, queue its own statement
// behind the old one and time out too: one slow statement would become a run of failures (with pg's
// own query_timeout, shared/transaction-timeout.test.ts showed it).
//
// Outside transactions this does not happen: pg-pool destroys a client whose pool.query failed.
// Inside, this wrapper closes the connection as soon as one of its statements is abandoned, so what
// follows on it (Prisma's ROLLBACK) fails at once and pg-pool, seeing it closed, drops it instead of
// lending it again. A statement whose cancel was confirmed has ended: its connection is left to the
// ROLLBACK and the pool.
//
// Hand-written: neither pg nor @prisma/adapter-pg has a setting for it (the adapter's commit and
// rollback release the client as healthy whatever happened on it).
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
