// `bun run db:seed`: an admin and a demo user with clients, for local development. Safe to rerun.
// Refuses to run in production.

import { buildPooledDatabaseConfig, openPooledDatabase } from '../shared/db.ts';
import { loadToolConfig } from '../shared/env.ts';
import { hashPassword } from '../shared/passwords.ts';

const { config } = loadToolConfig();
if (config.NODE_ENV === 'production') {
  console.error('db:seed: refusing to seed a production database (NODE_ENV=production).');
  process.exit(1);
}
const url = config.DATABASE_URL ?? config.DIRECT_URL;
if (!url) {
  console.error('db:seed: set DATABASE_URL (or run `bun run dev`, which seeds its embedded database).');
  process.exit(1);
}

const DEMO_USER = { email: 'demo@poolwise.local', password: 'dev-only-demo-password', name: 'Demo User' };
const adminPassword = config.SEED_ADMIN_PASSWORD ?? 'dev-only-admin-password';

const database = openPooledDatabase(buildPooledDatabaseConfig({ databaseUrl: url, poolSize: 2 }), console);
const { prisma } = database;
try {
  const admin = await prisma.user.upsert({
    where: { email: config.SEED_ADMIN_EMAIL },
    update: {},
    create: {
      email: config.SEED_ADMIN_EMAIL,
      name: 'Admin',
      role: 'ADMIN',
      passwordHash: await hashPassword(adminPassword),
    },
  });
  const demo = await prisma.user.upsert({
    where: { email: DEMO_USER.email },
    update: {},
    create: { email: DEMO_USER.email, name: DEMO_USER.name, passwordHash: await hashPassword(DEMO_USER.password) },
  });
  const existing = await prisma.client.count({ where: { ownerId: demo.id } });
  if (existing === 0) {
    const statuses = ['ACTIVE', 'INACTIVE', 'LEAD'] as const;
    await prisma.client.createMany({
      data: Array.from({ length: 25 }, (_, i) => ({
        ownerId: demo.id,
        name: `Demo Client ${String(i + 1).padStart(2, '0')}`,
        email: `client${i + 1}@demo.test`,
        company: ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli'][i % 5],
        status: statuses[i % 3],
      })),
    });
  }
  console.log(
    `db:seed: admin ${admin.email}, demo user ${demo.email} (password ${DEMO_USER.password}) with ` +
      `${existing || 25} clients`,
  );
} finally {
  await database.close();
}
