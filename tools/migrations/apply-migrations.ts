// Applies prisma/migrations over the direct address, exactly as `prisma migrate deploy` would
// (same `_prisma_migrations` rows and checksums), with Prisma's schema engine as WebAssembly.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { openSchemaEngine } from './schema-engine.ts';

export const MIGRATIONS_DIR = join(REPOSITORY_ROOT, 'prisma', 'migrations');
export const SCHEMA_PATH = join(REPOSITORY_ROOT, 'prisma', 'schema.prisma');

/** The migrations folder in the shape the engine expects (the Prisma CLI builds the same list). */
export function readMigrationsList(migrationsDir = MIGRATIONS_DIR) {
  const lockPath = join(migrationsDir, 'migration_lock.toml');
  const directories = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort((a, b) => a.localeCompare(b))
    : [];
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: directories.map((name) => {
      const file = join(migrationsDir, name, 'migration.sql');
      return {
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: existsSync(file)
            ? { tag: 'ok' as const, value: readFileSync(file, 'utf8') }
            : { tag: 'error' as const, value: `${file} is missing` },
        },
      };
    }),
  };
}

/** Returns the names of the migrations it applied (none when the database is up to date). */
export async function applyMigrations(directUrl: string): Promise<string[]> {
  const { engine, close } = await openSchemaEngine(readFileSync(SCHEMA_PATH, 'utf8'), directUrl);
  try {
    const result = await engine.applyMigrations({
      migrationsList: readMigrationsList(),
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.appliedMigrationNames;
  } finally {
    await close();
  }
}
