// Refresh-token sessions. Only a SHA-256 of each token is stored. A family groups one login's
// rotations: rotating marks the presented token used and issues the next one with the family's
// original (absolute) expiry; presenting a used token again revokes the whole family.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

const newToken = () => randomBytes(32).toString('base64url');

export type RotationResult =
  | { outcome: 'rotated'; token: string; familyId: string; user: { id: string; role: 'USER' | 'ADMIN' } }
  | { outcome: 'invalid' | 'reused' | 'disabled' };

export function createSessionRepository(prisma: PrismaClient) {
  const revokeFamily = (familyId: string) =>
    prisma.refreshSession.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } });

  return {
    /** Starts a new family (a login or a registration) and returns the plain token, shown once. */
    async startFamily(userId: string, ttlSeconds: number): Promise<{ token: string; familyId: string }> {
      const token = newToken();
      const familyId = randomUUID();
      await prisma.refreshSession.create({
        data: {
          userId,
          familyId,
          tokenHash: hashRefreshToken(token),
          expiresAt: new Date(Date.now() + ttlSeconds * 1000),
        },
      });
      return { token, familyId };
    },

    async rotate(presented: string): Promise<RotationResult> {
      const session = await prisma.refreshSession.findUnique({
        where: { tokenHash: hashRefreshToken(presented) },
        select: {
          id: true,
          familyId: true,
          expiresAt: true,
          rotatedAt: true,
          revokedAt: true,
          user: { select: { id: true, role: true, status: true } },
        },
      });
      if (!session || session.revokedAt || session.expiresAt <= new Date()) return { outcome: 'invalid' };
      if (session.rotatedAt) {
        await revokeFamily(session.familyId);
        return { outcome: 'reused' };
      }
      if (session.user.status !== 'ACTIVE') {
        await revokeFamily(session.familyId);
        return { outcome: 'disabled' };
      }
      // Conditional update: of two concurrent rotations of one token, exactly one wins; the other
      // is treated as reuse.
      const claimed = await prisma.refreshSession.updateMany({
        where: { id: session.id, rotatedAt: null, revokedAt: null },
        data: { rotatedAt: new Date() },
      });
      if (claimed.count !== 1) {
        await revokeFamily(session.familyId);
        return { outcome: 'reused' };
      }
      const token = newToken();
      await prisma.refreshSession.create({
        data: {
          userId: session.user.id,
          familyId: session.familyId,
          tokenHash: hashRefreshToken(token),
          expiresAt: session.expiresAt,
        },
      });
      return { outcome: 'rotated', token, familyId: session.familyId, user: session.user };
    },

    revokeFamily,

    /** Ends every session of a user, or every one but `keepFamilyId` (a password change keeps the caller's). */
    revokeAllForUser(userId: string, keepFamilyId?: string) {
      return prisma.refreshSession.updateMany({
        where: { userId, revokedAt: null, ...(keepFamilyId ? { familyId: { not: keepFamilyId } } : {}) },
        data: { revokedAt: new Date() },
      });
    },
  };
}

export type SessionRepository = ReturnType<typeof createSessionRepository>;
