// Builders tests share: a validated configuration pointed at the test stack, real apps, log capture.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { PrismaPg } from '@prisma/adapter-pg';
import { createSigner } from 'fast-jwt';
import pg from 'pg';
import pino from 'pino';
import type { ServiceConfig, ServiceName } from '../../shared/config-schema.ts';
import { buildPooledDatabaseConfig, openPooledDatabase, PrismaClient } from '../../shared/db.ts';
import { validateConfig } from '../../shared/env.ts';
import { generateJwtKeyPair } from '../../shared/jwt-keys.ts';
import { testStack } from './test-stack.ts';

/** One key pair for the whole run, as the services of one deployment would share one. */
export const testKeys = generateJwtKeyPair();

/** A key overridden with `undefined` is removed (e.g. to let the address decide the pool mode). */
export function testConfig(service: ServiceName, overrides: Record<string, string | undefined> = {}): ServiceConfig {
  const values: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: testStack().pooledUrl,
    // The test PgBouncer listens on a free port, so conventions cannot tell what it is.
    DB_POOL_MODE: 'transaction',
    DIRECT_URL: testStack().directUrl,
    DB_POOL_SIZE: '2',
    DB_POOL_TIMEOUT: '5',
    REDIS_URL: testStack().redis.url,
    // Every service of a test run shares one process (and the machine's two cores with the rest of
    // the run): its event-loop lag says nothing about one service. Overload tests turn this on.
    OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
    ...overrides,
  };
  return validateConfig(
    service,
    Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined)),
  );
}

/** A pino logger whose lines tests can read back. */
export function captureLogs() {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, messages: () => lines.map((line) => line.msg) };
}

export const uniqueEmail = (label = 'user') =>
  `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.test`;

/**
 * An access token as the auth worker would sign it, for testing workers on their own. `sid` defaults to
 * a random session id (enough for the gateway, which checks signatures only); a worker accepts the
 * token only if the session is real and live: use createTestSession() for that. `sid: null` leaves the
 * claim out.
 */
export function signTestToken(
  claims: { sub: string; role?: 'USER' | 'ADMIN'; sid?: string | null },
  overrides: Record<string, unknown> = {},
) {
  const { sid = randomUUID(), ...rest } = claims;
  return createSigner({
    key: testKeys.privateKey,
    algorithm: 'EdDSA',
    iss: 'poolwise-auth',
    aud: 'poolwise-api',
    expiresIn: 60_000,
    ...overrides,
  })({ role: 'USER', ...rest, ...(sid === null ? {} : { sid }) });
}

/**
 * A user with one live session (refresh family), written straight into the test database, and an
 * access token for it: for tests that start a worker without the auth worker.
 */
export async function createTestSession(label = 'session') {
  const [user] = await sqlOnTestDatabase(
    `INSERT INTO users (id, email, password_hash, name, updated_at)
     VALUES (gen_random_uuid(), $1, 'not a hash: this user never logs in', $2, now()) RETURNING id`,
    [uniqueEmail(label), label],
  );
  const [family] = await sqlOnTestDatabase(
    `INSERT INTO refresh_families (id, user_id, expires_at) VALUES (gen_random_uuid(), $1, now() + interval '1 hour')
     RETURNING id`,
    [user.id],
  );
  return {
    userId: user.id as string,
    sid: family.id as string,
    token: signTestToken({ sub: user.id, sid: family.id }),
  };
}

/** Runs SQL directly against the test database (bypassing the API), e.g. to make an admin. */
export async function sqlOnTestDatabase(text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: testStack().directUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A user row written straight into the test database, for tests that only need an owner's id. */
export async function insertTestOwner(label: string): Promise<string> {
  const [owner] = await sqlOnTestDatabase(
    "INSERT INTO users (id, email, password_hash, name, updated_at) VALUES (gen_random_uuid(), $1, 'x', 'Owner', now()) RETURNING id",
    [uniqueEmail(label)],
  );
  return owner.id as string;
}

/** Prisma on the test database directly (no pooler, as a repository test wants it); close() when done. */
export function openTestPrisma(options: { connectionString?: string; max?: number } = {}) {
  const pool = new pg.Pool({
    connectionString: options.connectionString ?? testStack().directUrl,
    max: options.max ?? 2,
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    pool,
    prisma,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * The services' own database layer (shared/db.ts: their pool, timeouts and driver-adapter wrappers)
 * through the test stack's transaction-mode PgBouncer; close() when done.
 */
export function openThroughTestPooler(
  settings: { poolSize: number; queryTimeoutSeconds: number },
  logger: { warn(message: string): void; error(details: object, message: string): void } = { warn() {}, error() {} },
) {
  return openPooledDatabase(
    buildPooledDatabaseConfig({ databaseUrl: testStack().pooledUrl, poolMode: 'transaction', ...settings }),
    logger,
  );
}

/** Client backends PostgreSQL has for `database` right now: what the poolers' server connections add up to. */
export async function clientBackends(observer: pg.Client, database: string): Promise<number> {
  const { rows } = await observer.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
    [database],
  );
  return rows[0].n as number;
}

/** `work`'s result, and the highest value `sample` gave (asked every `everyMs`) while it ran. */
export async function peakWhile<T>(
  sample: () => Promise<number>,
  work: () => Promise<T>,
  everyMs = 10,
): Promise<{ result: T; peak: number }> {
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await sample());
      await Bun.sleep(everyMs);
    }
  })();
  try {
    return { result: await work(), peak };
  } finally {
    sampling = false;
    await sampler;
  }
}
