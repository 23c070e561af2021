// `bun run db:migrate`: applies prisma/migrations over DIRECT_URL, offline, as `prisma migrate deploy` would.
import { loadToolConfig } from '../../shared/env.ts';
import { maskSecretsInUrl } from '../../shared/env-layers.ts';
import { applyMigrations } from './apply-migrations.ts';
import { chooseMigrationAddress } from './migration-address.ts';

const { config, sources } = loadToolConfig();
const { url, problem } = chooseMigrationAddress(config);
if (!url) {
  console.error(`db:migrate: ${problem}`);
  process.exit(1);
}
const source = config.DIRECT_URL ? sources.DIRECT_URL : sources.DATABASE_URL;
console.log(`db:migrate: applying prisma/migrations to ${maskSecretsInUrl(url)} (from ${source})`);
const applied = await applyMigrations(url);
console.log(applied.length ? `db:migrate: applied ${applied.join(', ')}` : 'db:migrate: already up to date');
process.exit(0);
