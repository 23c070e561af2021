// Client records, always scoped to an owner: a query without the owner cannot be written here.
import type { Prisma, PrismaClient } from '../../shared/generated/prisma/client.ts';

export const CLIENT_SORTS = ['createdAt', '-createdAt', 'name', '-name'] as const;
export type ClientSort = (typeof CLIENT_SORTS)[number];
export type ClientStatus = 'ACTIVE' | 'INACTIVE' | 'LEAD';

export interface ClientListQuery {
  ownerId: string;
  page: number;
  limit: number;
  search?: string;
  status?: ClientStatus;
  sort: ClientSort;
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

function orderFor(sort: ClientSort): Prisma.ClientOrderByWithRelationInput[] {
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  const field = sort.replace('-', '') as 'createdAt' | 'name';
  // id breaks ties so pages never repeat or skip rows with equal sort keys.
  return [{ [field]: direction }, { id: direction }];
}

export function createClientRepository(prisma: PrismaClient) {
  return {
    async listForOwner(query: ClientListQuery) {
      const where: Prisma.ClientWhereInput = { ownerId: query.ownerId };
      if (query.status) where.status = query.status;
      if (query.search) {
        const contains = { contains: query.search, mode: 'insensitive' as const };
        where.OR = [{ name: contains }, { email: contains }, { company: contains }];
      }
      const [rows, total] = await Promise.all([
        prisma.client.findMany({
          where,
          select: clientColumns,
          orderBy: orderFor(query.sort),
          skip: (query.page - 1) * query.limit,
          take: query.limit,
        }),
        prisma.client.count({ where }),
      ]);
      return { rows, total };
    },
    create(ownerId: string, data: Omit<Prisma.ClientUncheckedCreateInput, 'ownerId' | 'id'>) {
      return prisma.client.create({ data: { ...data, ownerId }, select: clientColumns });
    },
  };
}

export type ClientRepository = ReturnType<typeof createClientRepository>;
