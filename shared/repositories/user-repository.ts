// Users, for the auth and user workers. Routes call this, never Prisma directly.
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { escapeLikeWildcards } from './like-pattern.ts';
import { totalFor } from './page-total.ts';

export interface UserListQuery {
  page: number;
  limit: number;
  search?: string;
  role?: 'USER' | 'ADMIN';
  status?: 'ACTIVE' | 'DISABLED';
}

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
    findWithPasswordHash(id: string) {
      return prisma.user.findUnique({ where: { id }, select: { ...publicUserColumns, passwordHash: true } });
    },
    async list(query: UserListQuery) {
      const where: Prisma.UserWhereInput = {};
      if (query.role) where.role = query.role;
      if (query.status) where.status = query.status;
      if (query.search) {
        const contains = { contains: escapeLikeWildcards(query.search), mode: 'insensitive' as const };
        where.OR = [{ email: contains }, { name: contains }];
      }
      // Sequential, like the client list: one pooled connection at a time per request.
      const skip = (query.page - 1) * query.limit;
      const rows = await prisma.user.findMany({
        where,
        select: publicUserColumns,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        skip,
        take: query.limit,
      });
      return { rows, total: await totalFor(rows.length, skip, query.limit, () => prisma.user.count({ where })) };
    },
    /** Returns undefined when no such user exists. */
    async update(id: string, data: Prisma.UserUpdateInput) {
      try {
        return await prisma.user.update({ where: { id }, data, select: publicUserColumns });
      } catch (error) {
        if ((error as { code?: string }).code === 'P2025') return undefined;
        throw error;
      }
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
