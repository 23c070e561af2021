// Starts a real PgBouncer (Debian's 1.18 here) in front of PostgreSQL: transaction mode for runtime
// traffic, or a session-mode pool capped like a free tier to reproduce the incident.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectOutput, findBinary, findFreePort, stopChild, unprivilegedUserFor, waitForPort } from './processes.ts';

export interface PgBouncerOptions {
  /** The PostgreSQL server behind it. */
  upstream: { host: string; port: number; user: string; password?: string };
  /** Databases reachable through it (the alias is the database name clients ask for). */
  databases: string[];
  poolMode: 'transaction' | 'session';
  /** Server connections per database/user pair: what PostgreSQL sees at most. */
  poolSize: number;
  /** Client connections PgBouncer accepts in all; one more is refused at once (Supavisor's max-clients twin). */
  maxClientConn: number;
  port?: number;
  /** Seconds a client may wait for a server connection before PgBouncer gives up on it. */
  queryWaitTimeout?: number;
}

export interface RunningPgBouncer {
  port: number;
  pid: number | undefined;
  poolMode: 'transaction' | 'session';
  /** Client URL for one of its databases. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export function findPgBouncerBinary(): string | undefined {
  return findBinary('pgbouncer');
}

function renderIni(options: PgBouncerOptions, port: number): string {
  const { upstream } = options;
  const credentials = `user=${upstream.user}${upstream.password ? ` password=${upstream.password}` : ''}`;
  return [
    '[databases]',
    ...options.databases.map((db) => `${db} = host=${upstream.host} port=${upstream.port} dbname=${db} ${credentials}`),
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    // Local development and tests only: every client is let in and logs in upstream as `upstream.user`.
    'auth_type = any',
    `admin_users = ${upstream.user}`,
    `stats_users = ${upstream.user}`,
    `pool_mode = ${options.poolMode}`,
    `default_pool_size = ${options.poolSize}`,
    `max_db_connections = ${options.poolSize}`,
    'reserve_pool_size = 0',
    `max_client_conn = ${options.maxClientConn}`,
    `query_wait_timeout = ${options.queryWaitTimeout ?? 30}`,
    'server_idle_timeout = 30',
    // node-postgres may send these; PgBouncer 1.18 refuses unknown startup parameters otherwise.
    'ignore_startup_parameters = extra_float_digits,options,statement_timeout',
    '',
  ].join('\n');
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<RunningPgBouncer> {
  const binary = findPgBouncerBinary();
  if (!binary) throw new Error('pgbouncer is not installed (Debian: apt-get install pgbouncer)');
  const port = options.port ?? (await findFreePort());
  const dir = mkdtempSync(join(tmpdir(), 'poolwise-pgbouncer-'));
  const iniPath = join(dir, 'pgbouncer.ini');
  writeFileSync(iniPath, renderIni(options, port), { mode: 0o644 });
  const runAs = unprivilegedUserFor(dir);
  const child: ChildProcess = spawn(binary, [...(runAs ? ['-u', runAs] : []), iniPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  try {
    await waitForPort(port, 'pgbouncer', 10_000, child);
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}\n${output()}`);
  }
  return {
    port,
    pid: child.pid,
    poolMode: options.poolMode,
    urlFor: (database) => `postgresql://${options.upstream.user}@127.0.0.1:${port}/${database}`,
    async stop() {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
