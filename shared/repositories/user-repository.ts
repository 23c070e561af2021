// Users, for the auth and user workers. Routes call this, never Prisma directly.
import type { PrismaClient } from '../generated/prisma/client.ts';

/** Columns any response may show; the password hash is fetched only where it is checked. */
const publicUserColumns = {
  id: true,
  email: true,
  name: true,
  role: true,
  status: true,
  createdAt: true,
  updatedAt: true,
} as const;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createUserRepository(prisma: PrismaClient) {
  return {
    /** Returns undefined when the email is taken (unique violation), so callers answer 409. */
    async create(input: { email: string; name: string; passwordHash: string; role?: 'USER' | 'ADMIN' }) {
      try {
        return await prisma.user.create({
          data: { ...input, email: normaliseEmail(input.email) },
          select: publicUserColumns,
        });
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002') return undefined;
        throw error;
      }
    },
    findForLogin(email: string) {
      return prisma.user.findUnique({
        where: { email: normaliseEmail(email) },
        select: { ...publicUserColumns, passwordHash: true },
      });
    },
    findById(id: string) {
      return prisma.user.findUnique({ where: { id }, select: publicUserColumns });
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
