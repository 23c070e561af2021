// Prisma CLI configuration (Prisma 7 shape). `datasource.url` is the *migration* address: what
// `directUrl` used to be. Runtime traffic never reads it; it goes through shared/db.ts instead.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
    seed: 'bun prisma/seed.ts',
  },
  datasource: {
    url: process.env.DIRECT_URL ?? '',
  },
});
