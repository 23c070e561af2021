// Review issue 11, finding 10: the PgBouncer that tests, the bench and `bun run dev` start checks
// passwords (auth_type scram-sha-256 with an auth_file) and logs in upstream as a non-superuser
// application role, no longer letting anyone in as anyone (auth_type any) as the superuser.
import { beforeAll, describe, expect, test } from 'bun:test';
import pg from 'pg';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../testing/test-stack.ts';
import { canConnect } from './postgres.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const pooled = (change: (url: URL) => void) => {
  const url = new URL(testStack().pooledUrl);
  change(url);
  return url.toString();
};

/** Login only: PgBouncer's console answers SHOW, not `select 1`. */
async function canLogIn(url: string) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function queryPooled(text: string) {
  const client = new pg.Client({ connectionString: testStack().pooledUrl });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('the pooler of the test stack', () => {
  test('refuses a client without the right password, whoever it claims to be', async () => {
    expect(await canConnect(testStack().pooledUrl)).toBe(true);
    const attempts = [
      pooled((url) => {
        url.password = '';
      }),
      pooled((url) => {
        url.password = 'not-the-password';
      }),
      pooled((url) => {
        url.username = 'postgres';
        url.password = '';
      }),
    ];
    for (const attempt of attempts) expect(await canLogIn(attempt), attempt).toBe(false);
  });

  test('logs in upstream as an application role that is not a superuser', async () => {
    const [row] = await queryPooled(
      'SELECT current_user AS role, rolsuper AS superuser, rolcreaterole AS createrole, rolcreatedb AS createdb FROM pg_roles WHERE rolname = current_user',
    );
    expect(row.role).not.toBe(testStack().postgres.user);
    expect(row).toMatchObject({ superuser: false, createrole: false, createdb: false });
  });

  test('the application role reads and writes the tables, and cannot change their shape', async () => {
    expect(await queryPooled('SELECT count(*)::int AS n FROM users')).toHaveLength(1);
    await expect(queryPooled('ALTER TABLE users ADD COLUMN planted text')).rejects.toThrow(/owner|permission/i);
  });

  test('its console does not take the superuser; the application role may only look', async () => {
    const console = (username?: string) =>
      pooled((url) => {
        if (username) {
          url.username = username;
          url.password = '';
        }
        url.pathname = '/pgbouncer';
      });
    expect(await canLogIn(console('postgres'))).toBe(false);
    const client = new pg.Client({ connectionString: console() });
    await client.connect();
    try {
      const { rows } = await client.query('SHOW CONFIG');
      expect(rows.find((row: { key: string }) => row.key === 'auth_type')?.value).toBe('scram-sha-256');
      await expect(client.query('PAUSE')).rejects.toThrow(/admin/i);
    } finally {
      await client.end();
    }
  });
});
