// Refresh-token sessions. Only a SHA-256 of each token is stored. A family is one login and all its
// rotations: it carries the login's absolute expiry and its revocation, so revoking a family also
// refuses a token of it that is issued afterwards. Presenting a rotated token again revokes the family.
//
// Why transactions and a lock: a rotation reads the token, claims it and inserts the next one. Done as
// separate statements, a revocation (a concurrent reuse, a logout, a password change) could land
// between the claim and the insert and miss the new token, and a failed insert burned the token. Now
// each rotation is one transaction that first locks its family row; revocations update that same row,
// so they wait for a rotation in flight (and it for them), and a failure rolls the claim back.
// Interactive transactions are safe through PgBouncer in transaction mode: one transaction, one
// server connection.
//
// Why a login re-checks the password hash when it starts its family: it verified the password (slow,
// on purpose) before, and a password change committing in between revokes "every other family" before
// this one exists. So the family is written only under a share lock on the user row and only if the
// hash is still the one the login verified (every change writes a new salted hash, so an equal hash
// means no change). A change waits for that lock, so it either comes first and the login is refused,
// or comes after and revokes the new family with the others.
import { createHash, randomBytes } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

const newToken = () => randomBytes(32).toString('base64url');

export type RotationResult =
  | { outcome: 'rotated'; token: string; familyId: string; user: { id: string; role: 'USER' | 'ADMIN' } }
  | { outcome: 'invalid' }
  /** The family was revoked just now: its access tokens must be refused too. */
  | { outcome: 'reused' | 'disabled'; userId: string };

export type FamilyStart =
  | { outcome: 'started'; token: string; familyId: string }
  /** The password the login verified is no longer the user's, or the user is no longer active. */
  | { outcome: 'password-changed' | 'disabled' };

type Db = PrismaClient | Prisma.TransactionClient;

const revokeFamilies = (db: Db, where: Prisma.RefreshFamilyWhereInput) =>
  db.refreshFamily.updateMany({ where: { ...where, revokedAt: null }, data: { revokedAt: new Date() } });

/** Locks the family of the presented token; no row when the token is unknown. */
const lockFamilyOf = (tx: Prisma.TransactionClient, tokenHash: string) => tx.$queryRaw<{ usable: boolean }[]>`
  SELECT (revoked_at IS NULL AND expires_at > now()) AS usable
  FROM refresh_families
  WHERE id = (SELECT family_id FROM refresh_sessions WHERE token_hash = ${tokenHash})
  FOR UPDATE`;

/** Share-locks the user row (a password change or status change waits) and reads what a login checked. */
const lockUserForLogin = (tx: Prisma.TransactionClient, userId: string) => tx.$queryRaw<
  { password_hash: string; active: boolean }[]
>`
  SELECT password_hash, status = 'ACTIVE' AS active FROM users WHERE id = ${userId}::uuid FOR SHARE`;

export function createSessionRepository(prisma: PrismaClient) {
  return {
    /**
     * Starts a new family (a login or a registration) and returns the plain token, shown once, if the
     * user is active and `verifiedPasswordHash` is still their hash (see the header).
     */
    startFamily(userId: string, ttlSeconds: number, verifiedPasswordHash: string): Promise<FamilyStart> {
      return prisma.$transaction(async (tx): Promise<FamilyStart> => {
        const [user] = await lockUserForLogin(tx, userId);
        if (!user || user.password_hash !== verifiedPasswordHash) return { outcome: 'password-changed' };
        if (!user.active) return { outcome: 'disabled' };
        const token = newToken();
        const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
        const family = await tx.refreshFamily.create({
          data: { userId, expiresAt, sessions: { create: { userId, tokenHash: hashRefreshToken(token), expiresAt } } },
          select: { id: true },
        });
        return { outcome: 'started', token, familyId: family.id };
      });
    },

    /**
     * Whether access tokens of this family may still be used: the family exists for this user, is
     * neither revoked nor past its absolute expiry, and the user is active. One indexed statement.
     */
    async isLive(userId: string, familyId: string): Promise<boolean> {
      const [row] = await prisma.$queryRaw<{ live: boolean }[]>`
        SELECT (f.revoked_at IS NULL AND f.expires_at > now() AND u.status = 'ACTIVE') AS live
        FROM refresh_families f JOIN users u ON u.id = f.user_id
        WHERE f.id = ${familyId}::uuid AND f.user_id = ${userId}::uuid`;
      return row?.live === true;
    },

    rotate(presented: string): Promise<RotationResult> {
      const tokenHash = hashRefreshToken(presented);
      return prisma.$transaction(async (tx): Promise<RotationResult> => {
        const [family] = await lockFamilyOf(tx, tokenHash);
        if (!family?.usable) return { outcome: 'invalid' };
        // Read under the lock: a rotation that waited for another sees that one's claim here.
        const session = await tx.refreshSession.findUnique({
          where: { tokenHash },
          select: {
            id: true,
            familyId: true,
            expiresAt: true,
            rotatedAt: true,
            user: { select: { id: true, role: true, status: true } },
          },
        });
        if (!session || session.expiresAt <= new Date()) return { outcome: 'invalid' };
        if (session.rotatedAt) {
          await revokeFamilies(tx, { id: session.familyId });
          return { outcome: 'reused', userId: session.user.id };
        }
        if (session.user.status !== 'ACTIVE') {
          await revokeFamilies(tx, { id: session.familyId });
          return { outcome: 'disabled', userId: session.user.id };
        }
        await tx.refreshSession.update({ where: { id: session.id }, data: { rotatedAt: new Date() } });
        const token = newToken();
        await tx.refreshSession.create({
          data: {
            userId: session.user.id,
            familyId: session.familyId,
            tokenHash: hashRefreshToken(token),
            expiresAt: session.expiresAt,
          },
        });
        const { status: _status, ...user } = session.user;
        return { outcome: 'rotated', token, familyId: session.familyId, user };
      });
    },

    /** Logout: ends one family of the user. */
    revokeFamily(familyId: string, userId: string) {
      return revokeFamilies(prisma, { id: familyId, userId });
    },

    /** Ends every family of a user, or every one but `keepFamilyId`. */
    revokeAllForUser(userId: string, keepFamilyId?: string) {
      return revokeFamilies(prisma, { userId, ...(keepFamilyId ? { id: { not: keepFamilyId } } : {}) });
    },

    /**
     * A password change: the new hash and the end of every other family (all but the caller's)
     * commit together, so a failure never leaves a new password with an attacker's session alive.
     * False when the user does not exist.
     */
    changePassword(userId: string, passwordHash: string, keepFamilyId?: string): Promise<boolean> {
      return prisma.$transaction(async (tx) => {
        const { count } = await tx.user.updateMany({ where: { id: userId }, data: { passwordHash } });
        if (count === 0) return false;
        await revokeFamilies(tx, { userId, ...(keepFamilyId ? { id: { not: keepFamilyId } } : {}) });
        return true;
      });
    },
  };
}

export type SessionRepository = ReturnType<typeof createSessionRepository>;
