// Refresh-token sessions: only a SHA-256 of each token is stored; a family groups one login's rotations.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../shared/generated/prisma/client.ts';

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function createSessionRepository(prisma: PrismaClient) {
  return {
    /** Starts a new family (a login or a registration) and returns the plain token, shown once. */
    async startFamily(userId: string, ttlSeconds: number): Promise<string> {
      const token = randomBytes(32).toString('base64url');
      await prisma.refreshSession.create({
        data: {
          userId,
          familyId: randomUUID(),
          tokenHash: hashRefreshToken(token),
          expiresAt: new Date(Date.now() + ttlSeconds * 1000),
        },
      });
      return token;
    },
  };
}

export type SessionRepository = ReturnType<typeof createSessionRepository>;
