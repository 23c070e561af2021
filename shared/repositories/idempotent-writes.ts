// Writes guarded by an Idempotency-Key (shared/http/idempotency-key.ts): each runs at most once per
// caller, route and key, and every retry gets the first answer back.
//
// How: one transaction claims the key (INSERT … ON CONFLICT DO NOTHING on the key's primary key), runs
// the write, stores the answer on the key row and commits, all together. So:
// - a failure anywhere rolls the key back with the write: the client's retry performs the write;
// - a duplicate that arrives while the first is in its transaction blocks on the primary key until
//   the first commits (then it finds the stored answer and replays it) or rolls back (then it claims the
//   key and writes itself). Nobody outside ever sees a key without its answer. The wait is bounded by
//   lock_timeout: a first request stuck longer (a stalled pooler or database) gets its duplicates a 409
//   IDEMPOTENCY_KEY_IN_PROGRESS with Retry-After, as the draft says, instead of a request that hangs.
// Interactive transactions are safe through PgBouncer in transaction mode: one transaction, one server
// connection. Every statement of the write must use the transaction it is given (`tx`), never the
// pool: with 1-2 pooled connections per process, a second connection could be the one a duplicate
// holds while it waits for this transaction, and the two would wait on each other.
//
// Expiry: keys live IDEMPOTENCY_KEY_TTL_HOURS from the first answer. An expired key is ignored: the
// next request with it deletes the old row and claims the key afresh. Every newly claimed key also
// deletes up to SWEEP_BATCH expired rows of anyone (oldest first, skipping rows others have locked), so
// the table stays bounded by the traffic of one TTL without a scheduled job.
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { IdempotencyKeyInProgress, IdempotencyKeyReused } from '../http/errors.ts';

export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
/** How long a duplicate waits for the first request's transaction, well under Prisma's 5 s transaction timeout. */
export const WAIT_FOR_FIRST_REQUEST_MS = 2_000;
const SWEEP_BATCH = 100;

export interface IdempotencyScope {
  ownerId: string;
  /** Method and path of the route, e.g. "POST /api/v1/clients": a key is scoped to one route. */
  route: string;
  key: string;
  /** fingerprintRequestBody() of the request: the same key with another body is refused. */
  requestHash: string;
}

export interface WriteAnswer<T> {
  status: number;
  body: T;
}

export interface IdempotentAnswer<T> extends WriteAnswer<T> {
  /** True when this is the stored answer of an earlier request, and nothing was written now. */
  replayed: boolean;
}

const LOCK_NOT_AVAILABLE = '55P03';

type ErrorLink = { code?: unknown; cause?: unknown; meta?: { driverAdapterError?: { cause?: { code?: unknown } } } };

/** lock_timeout fired. Prisma carries the SQLSTATE in meta.driverAdapterError.cause.code (P2039). */
function isLockTimeout(error: unknown): boolean {
  let link = error as ErrorLink | undefined;
  for (let depth = 0; link && typeof link === 'object' && depth < 8; depth++) {
    if (link.code === LOCK_NOT_AVAILABLE) return true;
    if (link.meta?.driverAdapterError?.cause?.code === LOCK_NOT_AVAILABLE) return true;
    link = link.cause as ErrorLink | undefined;
  }
  return false;
}

type Claim = { claimed: true } | { claimed: false; answer: WriteAnswer<unknown> };

/**
 * Claims the key for this transaction, or finds the committed answer of whoever holds it. Waits (up to
 * lock_timeout) while another transaction holds the key. At most three rounds: an expired row is
 * deleted and the claim tried again, and a row that vanished meanwhile (swept) means the key is free.
 */
async function claimKey(tx: Prisma.TransactionClient, scope: IdempotencyScope): Promise<Claim> {
  const { ownerId, route, key, requestHash } = scope;
  const id = { ownerId_route_key: { ownerId, route, key } };
  for (let round = 0; round < 3; round++) {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + IDEMPOTENCY_KEY_TTL_HOURS * 3_600_000);
    const { count } = await tx.idempotencyKey.createMany({
      data: [{ ownerId, route, key, requestHash, createdAt: now, expiresAt }],
      skipDuplicates: true,
    });
    if (count === 1) return { claimed: true };
    const held = await tx.idempotencyKey.findUnique({ where: id });
    if (!held) continue;
    if (held.expiresAt <= now) {
      await tx.idempotencyKey.deleteMany({ where: { ownerId, route, key, expiresAt: { lte: now } } });
      continue;
    }
    if (held.requestHash !== requestHash) throw new IdempotencyKeyReused();
    // Committed rows always carry their answer (it is written in the claiming transaction); one without
    // was written by something else in flight: treat it as a request still being processed.
    if (held.responseStatus === null) throw new IdempotencyKeyInProgress();
    return { claimed: false, answer: { status: held.responseStatus, body: held.responseBody } };
  }
  throw new IdempotencyKeyInProgress();
}

/** Deletes a bounded batch of expired keys; never waits for a row another transaction holds. */
const sweepExpiredKeys = (tx: Prisma.TransactionClient) => tx.$executeRaw`
  DELETE FROM idempotency_keys
  WHERE (owner_id, route, key) IN (
    SELECT owner_id, route, key FROM idempotency_keys
    WHERE expires_at <= now()
    ORDER BY expires_at
    LIMIT ${SWEEP_BATCH}
    FOR UPDATE SKIP LOCKED
  )`;

export function createIdempotentWrites(prisma: PrismaClient) {
  return {
    /**
     * Runs `write` once per scope and answers what it answered, now and to every retry until the key
     * expires. `write` must do all its database work through `tx`. An error thrown by `write` (or by
     * anything here) stores nothing. Throws IdempotencyKeyReused (422) for another body under the same
     * key and IdempotencyKeyInProgress (409) when the first request holds the key too long.
     */
    run<T>(
      scope: IdempotencyScope,
      write: (tx: Prisma.TransactionClient) => Promise<WriteAnswer<T>>,
    ): Promise<IdempotentAnswer<T>> {
      return prisma.$transaction(async (tx): Promise<IdempotentAnswer<T>> => {
        // Local to this transaction: it bounds the wait for a key another transaction holds.
        await tx.$executeRaw`SELECT set_config('lock_timeout', ${`${WAIT_FOR_FIRST_REQUEST_MS}ms`}, true)`;
        let claim: Claim;
        try {
          claim = await claimKey(tx, scope);
        } catch (error) {
          if (isLockTimeout(error)) throw new IdempotencyKeyInProgress();
          throw error;
        }
        if (!claim.claimed) return { ...(claim.answer as WriteAnswer<T>), replayed: true };

        const answer = await write(tx);
        // Stored as the JSON the client received (dates as ISO strings), so a replay is the same answer.
        const responseBody = JSON.parse(JSON.stringify(answer.body)) as Prisma.InputJsonValue;
        const { ownerId, route, key } = scope;
        await tx.idempotencyKey.update({
          where: { ownerId_route_key: { ownerId, route, key } },
          data: { responseStatus: answer.status, responseBody },
        });
        await sweepExpiredKeys(tx);
        return { ...answer, replayed: false };
      });
    },
  };
}

export type IdempotentWrites = ReturnType<typeof createIdempotentWrites>;
