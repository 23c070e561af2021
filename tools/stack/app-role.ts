// The role the services log in as through the PgBouncer we start (tests, bench, `bun run dev`): it
// may log in and read and write the application's tables, nothing more. Not a superuser, so a bug or
// an injected statement in a service cannot drop databases, read other databases' data as owner,
// change the schema or create roles. Migrations keep running as the server's own user over DIRECT_URL.
import pg from 'pg';
import type { PostgresServer } from './postgres.ts';

export const APP_ROLE = 'poolwise_app';

/**
 * The role's password on the PostgreSQL server, used only by PgBouncer for its server logins. A fixed
 * development value on purpose: the machine's PostgreSQL is shared by every test run on it, and a
 * password changed per run would break the PgBouncer of a run already going. What a client must know
 * is PgBouncer's own password for the role, which is random per PgBouncer (see pgbouncer.ts). Like
 * the embedded server's EMBEDDED_PASSWORD, this is for local servers only.
 */
export const APP_ROLE_SERVER_PASSWORD = 'dev-only-app-role';

/** Role and grant changes from concurrent runs on one server wait for each other (catalog rows). */
const LOCK_KEY = 'poolwise_app_role';

async function inTransaction(url: string, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK_KEY]);
    await work(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates (or resets) the application role and lets it use `databases`' tables, which must already be
 * migrated. Returns undefined when the server's user may not manage roles (a managed server given as
 * TEST_POSTGRES_URL): PgBouncer then logs in as that user, as it did before.
 */
export async function ensureApplicationRole(
  server: Pick<PostgresServer, 'urlFor'>,
  databases: string[],
): Promise<{ user: string; password: string } | undefined> {
  try {
    await inTransaction(server.urlFor('postgres'), async (client) => {
      const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
      const attributes = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
      // The password is a literal: utility statements take no parameters. It is a constant without quotes.
      const password = `PASSWORD '${APP_ROLE_SERVER_PASSWORD}'`;
      await client.query(`${rowCount ? 'ALTER' : 'CREATE'} ROLE ${APP_ROLE} WITH ${attributes} ${password}`);
    });
  } catch (error) {
    if ((error as { code?: string }).code === '42501') return undefined; // insufficient_privilege
    throw error;
  }
  for (const database of databases) {
    await inTransaction(server.urlFor(database), async (client) => {
      const dml = 'SELECT, INSERT, UPDATE, DELETE';
      await client.query(`GRANT CONNECT ON DATABASE "${database.replace(/"/g, '')}" TO ${APP_ROLE}`);
      await client.query(`GRANT USAGE ON SCHEMA public TO ${APP_ROLE}`);
      await client.query(`GRANT ${dml} ON ALL TABLES IN SCHEMA public TO ${APP_ROLE}`);
      await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${APP_ROLE}`);
      // Tables a later migration creates (as this same user) are granted too.
      await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ${dml} ON TABLES TO ${APP_ROLE}`);
      await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${APP_ROLE}`);
      // The migration history is the migrator's business.
      await client.query(
        `DO $$ BEGIN IF to_regclass('public._prisma_migrations') IS NOT NULL THEN REVOKE ALL ON public._prisma_migrations FROM ${APP_ROLE}; END IF; END $$`,
      );
    });
  }
  return { user: APP_ROLE, password: APP_ROLE_SERVER_PASSWORD };
}
