// The stack the fault suite disturbs, all of it its own so that it may be broken on purpose: an
// embedded PostgreSQL (restartable), a transaction-mode PgBouncer, Redis, a TCP fault proxy between
// the workers and PgBouncer, and real processes: the auth worker, two client-worker replicas and the
// gateway. Nothing here is shared with the rest of the test run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateJwtKeyPair } from '../../shared/jwt-keys.ts';
import { applyMigrations } from '../migrations/apply-migrations.ts';
import { type RunningPgBouncer, startPgBouncer } from '../stack/pgbouncer.ts';
import { createDatabase, type PostgresServer, startEmbeddedPostgres } from '../stack/postgres.ts';
import { type RunningRedis, startRedis } from '../stack/redis.ts';
import { type ServiceProcess, startServiceProcess } from '../stack/service-process.ts';
import { startTcpProxy, type TcpProxy } from '../testing/tcp-proxy.ts';

const DATABASE = 'poolwise_faults';

/**
 * The bounds the suite states and checks: a statement waits at most DB_POOL_TIMEOUT for a connection
 * and DB_QUERY_TIMEOUT on it, so under any database fault a request is answered (503) within their
 * sum; the gateway's UPSTREAM_TIMEOUT (504) sits above that.
 */
export const FAULT_SETTINGS = {
  DB_POOL_SIZE: 2,
  DB_POOL_TIMEOUT: 3,
  DB_QUERY_TIMEOUT: 3,
  UPSTREAM_TIMEOUT: 8,
  PGBOUNCER_POOL: 10,
};

export interface FaultStack {
  postgres: PostgresServer & { restart(): Promise<void> };
  pgbouncer: RunningPgBouncer;
  redis: RunningRedis;
  /** Between the workers and PgBouncer. */
  proxy: TcpProxy;
  clients: ServiceProcess[];
  gateway: ServiceProcess;
  token: string;
  /**
   * Server connections PostgreSQL has for the database right now, and how many of them are busy
   * (not idle: running, or idle inside a transaction). A fresh connection each time: the server may
   * have restarted since the last question.
   */
  serverConnections(): Promise<{ total: number; busy: number }>;
  /** Ids from `ids` that are in the clients table. */
  presentClientIds(ids: string[]): Promise<Set<string>>;
  /** How many clients carry each of `names` (a create applied twice shows as 2). */
  clientsNamed(names: string[]): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export async function startFaultStack(log: (line: string) => void = () => {}): Promise<FaultStack> {
  const dir = mkdtempSync(join(tmpdir(), 'poolwise-faults-'));
  const started: { stop(): Promise<void> }[] = [];
  try {
    const embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: true, maxConnections: 40 });
    started.push(embedded);
    if (!embedded.restart) throw new Error('the embedded PostgreSQL cannot restart');
    const postgres = embedded as FaultStack['postgres'];
    await createDatabase(postgres, DATABASE);
    await applyMigrations(postgres.urlFor(DATABASE));
    const [pgbouncer, redis] = await Promise.all([
      startPgBouncer({
        upstream: postgres,
        databases: [DATABASE],
        poolMode: 'transaction',
        poolSize: FAULT_SETTINGS.PGBOUNCER_POOL,
        maxClientConn: 200,
        // Unused server connections close after 1 s, so "back to the baseline" is seen within seconds.
        serverIdleTimeout: 1,
      }),
      startRedis(),
    ]);
    started.push(pgbouncer, redis);
    const proxy = await startTcpProxy(pgbouncer.port, 'postgresql');
    started.push(proxy);
    const viaProxy = new URL(pgbouncer.urlFor(DATABASE));
    viaProxy.port = new URL(proxy.url).port;
    log(`PostgreSQL :${postgres.port}, PgBouncer :${pgbouncer.port} behind proxy ${proxy.url}, Redis :${redis.port}`);

    const keys = generateJwtKeyPair();
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      LOG_PRETTY: 'false',
      DATABASE_URL: viaProxy.toString(),
      DB_POOL_MODE: 'transaction',
      DB_POOL_SIZE: String(FAULT_SETTINGS.DB_POOL_SIZE),
      DB_POOL_TIMEOUT: String(FAULT_SETTINGS.DB_POOL_TIMEOUT),
      DB_QUERY_TIMEOUT: String(FAULT_SETTINGS.DB_QUERY_TIMEOUT),
      UPSTREAM_TIMEOUT: String(FAULT_SETTINGS.UPSTREAM_TIMEOUT),
      REDIS_URL: redis.url,
      CACHE_ENABLED: 'true',
      JWT_PUBLIC_KEY: keys.publicKey,
      RATE_LIMIT_MAX: '10000000',
      AUTH_RATE_LIMIT_MAX: '1000000',
      // Two cores run PostgreSQL, PgBouncer, Redis, four services and the load: the event-loop guard
      // would shed load for reasons that are not the fault under test.
      OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
    };
    const auth = await startServiceProcess('workers/auth/server.ts', { ...env, JWT_PRIVATE_KEY: keys.privateKey });
    started.push(auth);
    const clients = await Promise.all([
      startServiceProcess('workers/client/server.ts', env),
      startServiceProcess('workers/client/server.ts', env),
    ]);
    started.push(...clients);
    const gateway = await startServiceProcess('gateway/server.ts', {
      ...env,
      AUTH_SERVICE_URL: auth.url,
      USER_SERVICE_URL: auth.url, // not used by the suite; any answering address keeps readiness simple
      CLIENT_SERVICE_URL: clients.map((client) => client.url).join(','),
    });
    started.push(gateway);

    const registered = await fetch(`${gateway.url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `faults-${Date.now()}@example.test`,
        password: 'a long enough password',
        name: 'Faults',
      }),
    });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${await registered.text()}`);
    const token = ((await registered.json()) as { accessToken: string }).accessToken;

    const withDirect = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
      const client = new pg.Client({ connectionString: postgres.urlFor(DATABASE), connectionTimeoutMillis: 3_000 });
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end().catch(() => {});
      }
    };
    const stack: FaultStack = {
      postgres,
      pgbouncer,
      redis,
      proxy,
      clients,
      gateway,
      token,
      serverConnections: () =>
        withDirect(async (client) => {
          const { rows } = await client.query(
            `SELECT count(*)::int AS total, count(*) FILTER (WHERE state <> 'idle')::int AS busy
             FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
            [DATABASE],
          );
          return { total: rows[0].total as number, busy: rows[0].busy as number };
        }),
      presentClientIds: (ids) =>
        withDirect(async (client) => {
          const { rows } = await client.query('SELECT id FROM clients WHERE id = ANY($1::uuid[])', [ids]);
          return new Set(rows.map((row: { id: string }) => row.id));
        }),
      clientsNamed: (names) =>
        withDirect(async (client) => {
          const { rows } = await client.query(
            'SELECT name, count(*)::int AS n FROM clients WHERE name = ANY($1::text[]) GROUP BY name',
            [names],
          );
          return new Map(rows.map((row: { name: string; n: number }) => [row.name, row.n]));
        }),
      // `redis` may have been replaced by a fault (stopped, then started again): stop the current one.
      close: async () => {
        await stack.redis.stop().catch(() => {});
        await stopAll(started, dir);
      },
    };
    return stack;
  } catch (error) {
    await stopAll(started, dir);
    throw error;
  }
}

async function stopAll(started: { stop(): Promise<void> }[], dir: string) {
  for (const part of started.reverse()) await part.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
