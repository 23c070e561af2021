import { describe, expect, test } from 'bun:test';
import {
  buildPooledDatabaseConfig,
  classifyDatabaseAddress,
  describePoolLine,
  judgeRuntimeAddress,
} from './db-config.ts';

const SUPABASE_POOLER = 'aws-0-eu-central-1.pooler.supabase.com';

describe('classifyDatabaseAddress', () => {
  test.each([
    [SUPABASE_POOLER, 6543, 'transaction'],
    [SUPABASE_POOLER, 5432, 'session'],
    ['db.abcdefgh.supabase.co', 5432, 'direct'],
    ['ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech', 5432, 'transaction'],
    ['ep-cool-darkness-123456.us-east-2.aws.neon.tech', 5432, 'direct'],
    ['pgbouncer', 5432, 'session'],
    ['pgbouncer', 6432, 'transaction'],
    ['127.0.0.1', 6543, 'transaction'],
    ['127.0.0.1', 5432, 'direct'],
    ['localhost', 15432, 'direct'],
  ] as const)('%s:%d is %s', (host, port, mode) => {
    expect(classifyDatabaseAddress(host, port).mode).toBe(mode);
  });

  test('an explicit DB_POOL_MODE wins over conventions', () => {
    expect(classifyDatabaseAddress('127.0.0.1', 16432, 'transaction')).toEqual({
      mode: 'transaction',
      reason: 'DB_POOL_MODE',
    });
  });
});

describe('buildPooledDatabaseConfig', () => {
  test('defaults never leave the acquire timeout at pg’s "wait forever"', () => {
    const config = buildPooledDatabaseConfig({ databaseUrl: 'postgresql://u:p@127.0.0.1:6543/app' });
    expect(config.pool).toEqual({
      max: 2,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 10_000,
      statementTimeoutMillis: 5_000,
    });
    expect(config.mode).toBe('transaction');
    expect(config.notes).toEqual([]);
  });

  test('URL parameters people already write become pool options and leave the URL', () => {
    const config = buildPooledDatabaseConfig({
      databaseUrl: `postgresql://u:secret@${SUPABASE_POOLER}:6543/postgres?connection_limit=3&pool_timeout=20&sslmode=require`,
    });
    expect(config.pool.max).toBe(3);
    expect(config.pool.connectionTimeoutMillis).toBe(20_000);
    expect(config.connectionString).toBe(`postgresql://u:secret@${SUPABASE_POOLER}:6543/postgres?sslmode=require`);
    expect(config.maskedUrl).not.toContain('secret');
  });

  test('explicit settings win over URL parameters, and the conflict is reported', () => {
    const config = buildPooledDatabaseConfig({
      databaseUrl: 'postgresql://u@127.0.0.1:6543/app?connection_limit=10&pool_timeout=60',
      poolSize: 2,
      poolTimeoutSeconds: 30,
    });
    expect(config.pool.max).toBe(2);
    expect(config.pool.connectionTimeoutMillis).toBe(30_000);
    expect(config.notes).toEqual([
      'DB_POOL_SIZE=2 wins over connection_limit=10 in DATABASE_URL.',
      'DB_POOL_TIMEOUT=30 wins over pool_timeout=60 in DATABASE_URL.',
    ]);
  });

  test('agreeing settings are not reported as a conflict', () => {
    const config = buildPooledDatabaseConfig({
      databaseUrl: 'postgresql://u@127.0.0.1:6543/app?connection_limit=2',
      poolSize: 2,
    });
    expect(config.notes).toEqual([]);
  });

  test('pgbouncer=true is accepted, removed and explained', () => {
    const config = buildPooledDatabaseConfig({ databaseUrl: 'postgresql://u@127.0.0.1:6543/app?pgbouncer=true' });
    expect(config.connectionString).toBe('postgresql://u@127.0.0.1:6543/app');
    expect(config.notes).toHaveLength(1);
    expect(config.notes[0]).toContain('pgbouncer=true removed');
  });

  test('a nonsense URL parameter is ignored with a note, not applied', () => {
    const config = buildPooledDatabaseConfig({
      databaseUrl: 'postgresql://u@127.0.0.1:6543/app?connection_limit=lots',
    });
    expect(config.pool.max).toBe(2);
    expect(config.notes[0]).toContain('connection_limit=lots');
  });

  test('idle timeout is configurable in seconds', () => {
    const config = buildPooledDatabaseConfig({ databaseUrl: 'postgresql://u@h:6543/d', idleTimeoutSeconds: 2.5 });
    expect(config.pool.idleTimeoutMillis).toBe(2500);
  });
});

describe('describePoolLine', () => {
  test('prints the incident report’s line for each mode', () => {
    const pooled = buildPooledDatabaseConfig({ databaseUrl: 'postgresql://u@h:6543/d', poolTimeoutSeconds: 30 });
    expect(describePoolLine('ClientService', pooled)).toBe(
      '[ClientService] Using TRANSACTION POOLER (PgBouncer) connection (pool: 2, timeout: 30s)',
    );
    const direct = buildPooledDatabaseConfig({ databaseUrl: 'postgresql://u@h:5432/d', poolTimeoutSeconds: 30 });
    expect(describePoolLine('ClientService', direct)).toBe(
      '[ClientService] Using DIRECT connection (pool: 2, timeout: 30s)',
    );
    const session = buildPooledDatabaseConfig({ databaseUrl: `postgresql://u@${SUPABASE_POOLER}:5432/d`, poolSize: 1 });
    expect(describePoolLine('UserService', session)).toBe(
      '[UserService] Using SESSION POOLER connection (pool: 1, timeout: 10s)',
    );
  });
});

describe('judgeRuntimeAddress', () => {
  const session = buildPooledDatabaseConfig({ databaseUrl: `postgresql://u@${SUPABASE_POOLER}:5432/postgres` });

  test('refuses a session-mode address in production, naming the fix', () => {
    const judgement = judgeRuntimeAddress(session, 'production');
    expect(judgement.verdict).toBe('refuse');
    expect(judgement.message).toContain('port 6543');
  });

  test('warns about it in development', () => {
    expect(judgeRuntimeAddress(session, 'development').verdict).toBe('warn');
  });

  test('accepts the transaction pooler and direct addresses', () => {
    for (const url of [
      `postgresql://u@${SUPABASE_POOLER}:6543/postgres`,
      'postgresql://u@db.x.supabase.co:5432/postgres',
    ]) {
      expect(judgeRuntimeAddress(buildPooledDatabaseConfig({ databaseUrl: url }), 'production').verdict).toBe('ok');
    }
  });
});
