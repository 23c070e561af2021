// Starts a real PgBouncer (Debian's 1.18 here) in front of PostgreSQL: transaction mode for runtime
// traffic, or a session-mode pool capped like a free tier to reproduce the incident.
//
// Clients must log in with a password (auth_type scram-sha-256 against an auth_file): a random one per
// PgBouncer, for the application role (app-role.ts), which is also the user PgBouncer logs in upstream
// as. The machine's PostgreSQL may well trust every local connection; the password check then happens
// here, at the door the services use, and the role limits what a login can do.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureApplicationRole } from './app-role.ts';
import type { PostgresServer } from './postgres.ts';
import {
  collectOutput,
  findBinary,
  findFreePort,
  handToUnprivilegedUser,
  stopChild,
  waitForPort,
} from './processes.ts';

export interface PgBouncerOptions {
  /** The PostgreSQL server behind it. */
  upstream: Pick<PostgresServer, 'host' | 'port' | 'user' | 'password' | 'urlFor'>;
  /** Databases reachable through it (the alias is the database name clients ask for), already migrated. */
  databases: string[];
  poolMode: 'transaction' | 'session';
  /** Server connections per database/user pair: what PostgreSQL sees at most. */
  poolSize: number;
  /** Client connections PgBouncer accepts in all; one more is refused at once (Supavisor's max-clients twin). */
  maxClientConn: number;
  port?: number;
  /** Address it listens on (default 127.0.0.1); multi-host tests give the database host's own address. */
  listenAddress?: string;
  /** Seconds a client may wait for a server connection before PgBouncer gives up on it. */
  queryWaitTimeout?: number;
  /** Seconds an unused server connection stays open (default 30); the fault suite shortens it to see leaks. */
  serverIdleTimeout?: number;
  /** Each line PgBouncer logs (its server logins and closes among them), as it arrives. */
  onLog?: (line: string) => void;
}

export interface RunningPgBouncer {
  port: number;
  /** The running process's id (a new one after restart()). */
  readonly pid: number | undefined;
  poolMode: 'transaction' | 'session';
  /** Client URL for one of its databases. */
  urlFor(database: string): string;
  /**
   * Sends the process a signal, for fault tests: SIGKILL (crash), SIGINT (safe shutdown: waits for
   * running queries), SIGUSR1 / SIGUSR2 (PAUSE / RESUME), SIGSTOP / SIGCONT (a hung pooler).
   */
  signal(signal: NodeJS.Signals): void;
  /** Resolves once the current process has exited. */
  exited(): Promise<void>;
  /** Starts it again with the same settings, port and password (after a crash or a shutdown). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function findPgBouncerBinary(): string | undefined {
  return findBinary('pgbouncer');
}

interface Login {
  user: string;
  password?: string;
}

function renderIni(options: PgBouncerOptions, port: number, server: Login, authFile: string): string {
  const { upstream, listenAddress = '127.0.0.1' } = options;
  // Every client shares one pool per database, logged in upstream as the application role.
  const credentials = `user=${server.user}${server.password ? ` password=${server.password}` : ''}`;
  return [
    '[databases]',
    ...options.databases.map((db) => `${db} = host=${upstream.host} port=${upstream.port} dbname=${db} ${credentials}`),
    '',
    '[pgbouncer]',
    `listen_addr = ${listenAddress}`,
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${authFile}`,
    // SHOW commands on the console (the doctor reads pool_mode there); nobody may PAUSE or SHUTDOWN.
    `stats_users = ${server.user}`,
    `pool_mode = ${options.poolMode}`,
    `default_pool_size = ${options.poolSize}`,
    `max_db_connections = ${options.poolSize}`,
    'reserve_pool_size = 0',
    `max_client_conn = ${options.maxClientConn}`,
    // Recovery settings, chosen for a PostgreSQL restart (issue 12's fault suite measures them):
    // - server_login_retry: after a failed server login PgBouncer waits this long before trying again,
    //   answering every client `server login has been failing` meanwhile; the default 15 s made a
    //   1-second restart a 15-second outage.
    // - server_connect_timeout: a server that does not accept the TCP connection in 3 s is given up
    //   (default 15 s), so a dead host fails fast instead of queueing clients behind it.
    // - query_wait_timeout: how long a client may wait in PgBouncer's queue for a server connection.
    //   The services give up on a statement after DB_QUERY_TIMEOUT (5 s) anyway; this bounds the
    //   queue for any other client.
    'server_login_retry = 1',
    'server_connect_timeout = 3',
    `query_wait_timeout = ${options.queryWaitTimeout ?? 10}`,
    `server_idle_timeout = ${options.serverIdleTimeout ?? 30}`,
    // node-postgres may send these; PgBouncer 1.18 refuses unknown startup parameters otherwise.
    'ignore_startup_parameters = extra_float_digits,options,statement_timeout',
    '',
  ].join('\n');
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<RunningPgBouncer> {
  const binary = findPgBouncerBinary();
  if (!binary) throw new Error('pgbouncer is not installed (Debian: apt-get install pgbouncer)');
  const port = options.port ?? (await findFreePort());
  const host = options.listenAddress ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'poolwise-pgbouncer-'));
  const iniPath = join(dir, 'pgbouncer.ini');
  const authFile = join(dir, 'userlist.txt');
  const upstreamLogin = await ensureApplicationRole(options.upstream, options.databases);
  const server: Login = upstreamLogin ?? { user: options.upstream.user, password: options.upstream.password };
  const client = { user: server.user, password: randomBytes(18).toString('hex') };
  // Both files hold passwords: readable by PgBouncer's user alone.
  writeFileSync(authFile, `"${client.user}" "${client.password}"\n`, { mode: 0o600 });
  writeFileSync(iniPath, renderIni(options, port, server, authFile), { mode: 0o600 });
  const runAs = handToUnprivilegedUser(dir);
  let child: ChildProcess;
  const launch = async () => {
    const started = spawn(binary, [...(runAs ? ['-u', runAs] : []), iniPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const output = collectOutput(started);
    const { onLog } = options;
    if (onLog) {
      for (const stream of [started.stdout, started.stderr])
        if (stream) createInterface({ input: stream }).on('line', onLog);
    }
    try {
      await waitForPort(port, 'pgbouncer', 10_000, started, host);
    } catch (error) {
      await stopChild(started);
      throw new Error(`${(error as Error).message}\n${output()}`);
    }
  };
  await launch();
  return {
    port,
    get pid() {
      return child.pid;
    },
    poolMode: options.poolMode,
    urlFor: (database) =>
      `postgresql://${encodeURIComponent(client.user)}:${client.password}@${host}:${port}/${database}`,
    signal: (signal) => child.kill(signal),
    exited: () =>
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => child.once('exit', () => resolve())),
    restart: launch,
    async stop() {
      child.kill('SIGCONT');
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
