// Client records. Writes are scoped to an owner (update and delete take the owner and match on it);
// reads of a single client by id are not (findById): the caller checks ownership on what comes back.

import type { ClientSort, ClientStatus } from '../../shared/client-list-query.ts';
import type { Prisma, PrismaClient } from '../../shared/generated/prisma/client.ts';
import { readClientListPage } from './client-list-page.ts';
import { buildMarksStatement, createMarksRebuilder, dropOldMarksStatement, type MarkedOrder } from './page-marks.ts';

export type { ClientSort, ClientStatus };

export interface ClientListQuery {
  ownerId: string;
  page: number;
  limit: number;
  search?: string;
  status?: ClientStatus;
  sort: ClientSort;
  /** An `after` cursor (list-cursor.ts): keyset paging from there, instead of `page`. */
  after?: string;
}

export interface ClientWritableFields {
  name: string;
  email?: string | null;
  phone?: string | null;
  company?: string | null;
  status?: ClientStatus;
  notes?: string | null;
}

/** Only the columns a response shows: less to fetch, less for Prisma to map. */
const clientColumns = {
  id: true,
  ownerId: true,
  name: true,
  email: true,
  phone: true,
  company: true,
  status: true,
  notes: true,
  createdAt: true,
  updatedAt: true,
} as const;

export interface ClientRepositoryOptions {
  /** A page-mark build failed (page-marks.ts): the pages it would have served use OFFSET meanwhile. */
  onMarksError?: (error: unknown) => void;
  /** How long one process waits before it asks again for the same owner's marks (default 10 s). */
  marksCooldownMs?: number;
  /** PostgreSQL's own limit on one build statement, below the pool's DB_QUERY_TIMEOUT. */
  marksStatementTimeoutMs?: number;
}

export function createClientRepository(prisma: PrismaClient, options: ClientRepositoryOptions = {}) {
  const marks = createMarksRebuilder(
    (ownerId, order) => buildPageMarks(prisma, ownerId, order, options.marksStatementTimeoutMs),
    options.onMarksError ?? (() => {}),
    options.marksCooldownMs,
  );
  return {
    /** One statement per page: the rows and the total in one round trip (client-list-page.ts). */
    listForOwner(query: ClientListQuery) {
      return readClientListPage(query, (statement) => prisma.$queryRaw(statement), { requestMarks: marks.request });
    },
    /** Resolves when the page-mark builds asked for so far have ended. */
    marksSettled: marks.settled,
    /** `db`: the transaction to write in when the create is guarded by an Idempotency-Key. */
    create(ownerId: string, data: ClientWritableFields, db: PrismaClient | Prisma.TransactionClient = prisma) {
      return db.client.create({ data: { ...data, ownerId }, select: clientColumns });
    },
    /** Any owner's client, or null: callers decide who may see it (see routes/client-by-id.ts). */
    findById(id: string) {
      return prisma.client.findUnique({ where: { id }, select: clientColumns });
    },
    /**
     * Updates only when the client belongs to `ownerId`; null otherwise. One statement that changes
     * and returns the row: no committed update whose answer (and so whose invalidation) can fail apart.
     */
    async updateForOwner(id: string, ownerId: string, data: Partial<ClientWritableFields>) {
      try {
        return await prisma.client.update({ where: { id, ownerId }, data, select: clientColumns });
      } catch (error) {
        if ((error as { code?: string }).code === 'P2025') return null; // no such client for this owner
        throw error;
      }
    },
    async deleteForOwner(id: string, ownerId: string): Promise<boolean> {
      const { count } = await prisma.client.deleteMany({ where: { id, ownerId } });
      return count === 1;
    },
  };
}

/**
 * Below the pool's DB_QUERY_TIMEOUT (5 s by default): PostgreSQL itself stops a build that runs too
 * long, as its own statement timeout, before the pool's cancel (shared/cancelling-pg-client.ts) would
 * have to, so the build ends the same way whether or not that cancel gets through, and its connection
 * comes back clean and usable (page-marks.test.ts, "a build that fails").
 */
export const MARKS_STATEMENT_TIMEOUT_MS = 4_000;

/** One build of an owner's page marks (page-marks.ts); false when another build holds the lock. */
export function buildPageMarks(
  prisma: PrismaClient,
  ownerId: string,
  order: MarkedOrder,
  statementTimeoutMs = MARKS_STATEMENT_TIMEOUT_MS,
): Promise<boolean> {
  return prisma.$transaction(
    async (tx) => {
      const lock = `client_page_marks:${ownerId}:${order}`;
      const [row] = await tx.$queryRaw<{ locked: boolean }[]>`
        SELECT set_config('statement_timeout', ${String(statementTimeoutMs)}, true),
               pg_try_advisory_xact_lock(hashtext(${lock})) AS locked`;
      if (!row?.locked) return false;
      await tx.$executeRaw(buildMarksStatement(ownerId, order));
      await tx.$executeRaw(dropOldMarksStatement(ownerId, order));
      return true;
    },
    // Each statement is bounded by the statement timeout above; the transaction as a whole by this. A
    // busy pool may keep the build waiting for a connection longer than the default 2 s.
    { timeout: 3 * statementTimeoutMs, maxWait: 10_000 },
  );
}

export type ClientRepository = ReturnType<typeof createClientRepository>;
