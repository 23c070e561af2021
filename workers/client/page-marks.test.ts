// Page marks (page-marks.ts, migration 20261203100000): a deep page by number starts at a mark instead of
// an OFFSET. A mark may be missing, never wrong: with current marks every page equals what OFFSET
// gives, in every sort, with ties everywhere; any write that can move a row leaves the marks unread
// until they are rebuilt, the list answering right meanwhile; and a write that commits while marks are
// being built, or races the builds many times over, never leaves marks that are read and wrong.
// Real PostgreSQL, no mocks: the behaviour under test is the triggers' and the statements'.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import pg from 'pg';
import type { ClientSort } from '../../shared/client-list-query.ts';
import { buildPooledDatabaseConfig, openPooledDatabase, type PrismaClient } from '../../shared/db.ts';
import { insertTestOwner, openTestPrisma, sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../../tools/testing/test-stack.ts';
import { buildPageMarks, createClientRepository } from './client-repository.ts';
import { MARK_EVERY, markedPageStatement } from './page-marks.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const SORTS: Record<ClientSort, string> = {
  '-createdAt': 'created_at DESC, id DESC',
  createdAt: 'created_at ASC, id ASC',
  name: 'name ASC, id ASC',
  '-name': 'name DESC, id DESC',
};
const ALL_SORTS = Object.keys(SORTS) as ClientSort[];

let database: ReturnType<typeof openTestPrisma>;
let pool: pg.Pool;
let prisma: PrismaClient;
beforeAll(() => {
  database = openTestPrisma({ max: 8 });
  ({ pool, prisma } = database);
});
afterAll(() => database?.close());

/** An owner with `count` clients: timestamps repeat every 100 rows, names every 250 in three cases. */
async function ownerWith(count: number): Promise<string> {
  const ownerId = await insertTestOwner('marks');
  await sqlOnTestDatabase(
    `INSERT INTO clients (id, owner_id, name, created_at, updated_at)
     SELECT gen_random_uuid(), $1, (ARRAY['mark ', 'Mark ', 'MARK '])[1 + i % 3] || (i % 250),
            timestamptz '2026-01-01' + ((i % 100) || ' seconds')::interval, now()
     FROM generate_series(1, $2) i`,
    [ownerId, count],
  );
  return ownerId;
}

/** What OFFSET gives: the ground truth. */
async function offsetIds(ownerId: string, sort: ClientSort, offset: number, limit: number) {
  const rows = await sqlOnTestDatabase(
    `SELECT id FROM clients WHERE owner_id = $1 ORDER BY ${SORTS[sort]} OFFSET $2 LIMIT $3`,
    [ownerId, offset, limit],
  );
  return rows.map((row) => row.id as string);
}

/** The page from the marks, or undefined when the owner has no current marks for this order. */
async function markedIds(ownerId: string, sort: ClientSort, offset: number, limit: number) {
  const [found] = await prisma.$queryRaw<{ rows: { id: string }[] }[]>(
    markedPageStatement({ ownerId, sort, offset, fetch: limit }),
  );
  return found?.rows.map((row) => row.id);
}

async function buildBoth(ownerId: string) {
  expect(await buildPageMarks(prisma, ownerId, 'createdAt')).toBe(true);
  expect(await buildPageMarks(prisma, ownerId, 'name')).toBe(true);
}

describe('with current marks', () => {
  test('a page by number anywhere equals OFFSET, in every sort, past the end too', async () => {
    const count = 2_345;
    const ownerId = await ownerWith(count);
    await buildBoth(ownerId);
    const [{ marks }] = await sqlOnTestDatabase(
      'SELECT count(*)::int AS marks FROM client_page_marks WHERE owner_id = $1',
      [ownerId],
    );
    expect(marks).toBe(2 * Math.ceil(count / MARK_EVERY));
    const clients = createClientRepository(prisma);
    for (const sort of ALL_SORTS) {
      for (const offset of [MARK_EVERY, 501, 999, 1_000, 1_234, 1_995, 2_325, 2_338, 2_344, count, 3_000]) {
        const truth = await offsetIds(ownerId, sort, offset, 7);
        expect(await markedIds(ownerId, sort, offset, 7), `${sort} at ${offset}`).toEqual(truth);
      }
      // Through the repository, by page number: the same rows, the exact total, a cursor to go on.
      for (const page of [72, 143, 335, 336]) {
        const answer = await clients.listForOwner({ ownerId, page, limit: 7, sort });
        expect(
          answer.rows.map((row) => row.id),
          `${sort} page ${page}`,
        ).toEqual(await offsetIds(ownerId, sort, (page - 1) * 7, 7));
        expect(answer.total).toBe(count);
        expect(answer.totalIsLowerBound).toBeUndefined();
        expect(Boolean(answer.next)).toBe(page < 335);
      }
    }
  }, 60_000);
});

describe('after a write', () => {
  test('marks are unread until rebuilt; the list answers right meanwhile and asks for them', async () => {
    const ownerId = await ownerWith(1_600);
    const clients = createClientRepository(prisma, { marksCooldownMs: 0 });
    const deepPage = { ownerId, page: 100, limit: 10 };
    const writes: [string, string, boolean][] = [
      [
        'a new client, newest',
        "INSERT INTO clients (id, owner_id, name, updated_at) VALUES (gen_random_uuid(), $1, 'New', now())",
        true,
      ],
      [
        'a client dated among the others',
        "INSERT INTO clients (id, owner_id, name, created_at, updated_at) VALUES (gen_random_uuid(), $1, 'Mark 7', timestamptz '2026-01-01 00:00:30', now())",
        true,
      ],
      [
        'a rename',
        "UPDATE clients SET name = 'Aaron' WHERE id = (SELECT id FROM clients WHERE owner_id = $1 ORDER BY name DESC, id LIMIT 1)",
        true,
      ],
      [
        'a delete',
        'DELETE FROM clients WHERE id = (SELECT id FROM clients WHERE owner_id = $1 ORDER BY created_at, id LIMIT 1)',
        true,
      ],
      ['notes only', "UPDATE clients SET notes = 'seen' WHERE owner_id = $1", false],
    ];
    await buildBoth(ownerId);
    for (const [what, sql, movesRows] of writes) {
      await sqlOnTestDatabase(sql, [ownerId]);
      for (const sort of ['-createdAt', 'name'] as const) {
        const truth = await offsetIds(ownerId, sort, 990, 10);
        const marked = await markedIds(ownerId, sort, 990, 10);
        if (movesRows) expect(marked, `${what}, ${sort}: stale marks are not read`).toBeUndefined();
        else expect(marked, `${what}, ${sort}`).toEqual(truth);
        const answer = await clients.listForOwner({ ...deepPage, sort });
        expect(
          answer.rows.map((row) => row.id),
          `${what}, ${sort}`,
        ).toEqual(truth);
        // The list asked for new marks without waiting for them (one build at a time per process).
        await clients.marksSettled();
      }
      // Once built, they are read and right.
      for (const sort of ALL_SORTS) {
        expect(await markedIds(ownerId, sort, 990, 10), `${what}, rebuilt, ${sort}`).toEqual(
          await offsetIds(ownerId, sort, 990, 10),
        );
      }
    }
    // Old versions' marks are dropped by the build that replaces them.
    const [{ versions }] = await sqlOnTestDatabase(
      'SELECT count(DISTINCT (sort_key, version))::int AS versions FROM client_page_marks WHERE owner_id = $1',
      [ownerId],
    );
    expect(versions).toBe(2);
  }, 60_000);

  test('a write that commits after a build read its snapshot leaves that build’s marks unread', async () => {
    const ownerId = await ownerWith(1_200);
    const writer = new pg.Client({ connectionString: testStack().directUrl });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(
        "INSERT INTO clients (id, owner_id, name, created_at, updated_at) VALUES (gen_random_uuid(), $1, 'Mark 1', timestamptz '2026-01-01', now())",
        [ownerId],
      );
      // The build does not see the uncommitted client: its marks are right for the version it read...
      await buildBoth(ownerId);
      expect(await markedIds(ownerId, 'createdAt', 600, 10)).toEqual(await offsetIds(ownerId, 'createdAt', 600, 10));
      await writer.query('COMMIT');
    } finally {
      await writer.end();
    }
    // ...and the commit moves the version, so they are never read against the new rows.
    for (const sort of ALL_SORTS) expect(await markedIds(ownerId, sort, 600, 10), sort).toBeUndefined();
    await buildBoth(ownerId);
    for (const sort of ALL_SORTS) {
      expect(await markedIds(ownerId, sort, 600, 10), sort).toEqual(await offsetIds(ownerId, sort, 600, 10));
    }
  }, 30_000);

  test('builds raced by writes, 30 times: marks that are read are always right', async () => {
    const ownerId = await ownerWith(1_500);
    let currentSeen = 0;
    for (let round = 0; round < 30; round++) {
      const writes = [
        pool.query(
          `INSERT INTO clients (id, owner_id, name, created_at, updated_at)
           VALUES (gen_random_uuid(), $1, 'Mark ' || $2::int, timestamptz '2026-01-01' + ($2::int || ' seconds')::interval, now())`,
          [ownerId, (round * 37) % 100],
        ),
        pool.query(
          "UPDATE clients SET name = 'Race ' || $2::int WHERE id = (SELECT id FROM clients WHERE owner_id = $1 ORDER BY name, id OFFSET $2 LIMIT 1)",
          [ownerId, round * 41],
        ),
        pool.query(
          'DELETE FROM clients WHERE id = (SELECT id FROM clients WHERE owner_id = $1 ORDER BY created_at, id OFFSET $2 LIMIT 1)',
          [ownerId, round * 29],
        ),
      ];
      // Builds start alongside the writes, a little later each round: before, during and after them.
      const builds = Bun.sleep(round % 6).then(() =>
        Promise.all([buildPageMarks(prisma, ownerId, 'createdAt'), buildPageMarks(prisma, ownerId, 'name')]),
      );
      await Promise.all([...writes, builds]);
      for (const sort of ALL_SORTS) {
        const offset = 500 + ((round * 97) % 900);
        const marked = await markedIds(ownerId, sort, offset, 10);
        if (marked === undefined) continue; // stale: a write committed after the build's snapshot
        currentSeen++;
        expect(marked, `round ${round}, ${sort} at ${offset}`).toEqual(await offsetIds(ownerId, sort, offset, 10));
      }
    }
    // Not a test of nothing: some rounds' marks were current and read.
    expect(currentSeen).toBeGreaterThan(0);
  }, 60_000);

  test('builds of the same owner and order at once, 10 times: one numbers, the rest step aside, no mark twice', async () => {
    const ownerId = await ownerWith(2_100);
    for (let round = 0; round < 10; round++) {
      await pool.query(
        "UPDATE clients SET name = 'Race ' || $2::int WHERE id = (SELECT id FROM clients WHERE owner_id = $1 ORDER BY id OFFSET $2 LIMIT 1)",
        [ownerId, round],
      );
      const built = await Promise.all(Array.from({ length: 6 }, () => buildPageMarks(prisma, ownerId, 'name')));
      expect(built.filter(Boolean).length, `round ${round}`).toBeGreaterThanOrEqual(1);
      const [current] = await sqlOnTestDatabase(
        `SELECT count(*)::int AS marks, count(DISTINCT position)::int AS positions
         FROM client_page_marks JOIN client_counts USING (owner_id, version) WHERE owner_id = $1 AND sort_key = 'name'`,
        [ownerId],
      );
      expect(current, `round ${round}`).toEqual({ marks: 5, positions: 5 });
      expect(await markedIds(ownerId, 'name', 1_700, 10)).toEqual(await offsetIds(ownerId, 'name', 1_700, 10));
    }
  }, 60_000);
});

describe('a build that fails', () => {
  test('one that times out writes no marks, is reported, and the page that asked is answered right', async () => {
    const ownerId = await ownerWith(1_200);
    // Another session holds the marks table against writes (reads still pass): every build blocks on
    // its INSERT until the pool's query timeout ends it, as one numbering too many clients would.
    const holder = new pg.Client({ connectionString: testStack().directUrl });
    await holder.connect();
    // The worker's own database layer, with a short DB_QUERY_TIMEOUT.
    const timingOut = openPooledDatabase(
      buildPooledDatabaseConfig({ databaseUrl: testStack().directUrl, poolSize: 2, queryTimeoutSeconds: 0.5 }),
      { warn() {}, error() {} },
    );
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE client_page_marks IN EXCLUSIVE MODE');
      await expect(buildPageMarks(timingOut.prisma, ownerId, 'createdAt', 300)).rejects.toThrow();
      const errors: unknown[] = [];
      const clients = createClientRepository(timingOut.prisma, {
        onMarksError: (error) => errors.push(error),
        marksStatementTimeoutMs: 300,
      });
      const page = await clients.listForOwner({ ownerId, page: 31, limit: 20, sort: '-createdAt' });
      expect(page.rows.map((row) => row.id)).toEqual(await offsetIds(ownerId, '-createdAt', 600, 20));
      await clients.marksSettled();
      expect(errors).toHaveLength(1);
      await holder.query('COMMIT');
      const [{ marks }] = await sqlOnTestDatabase(
        'SELECT count(*)::int AS marks FROM client_page_marks WHERE owner_id = $1',
        [ownerId],
      );
      expect(marks).toBe(0);
    } finally {
      await holder.end();
      await timingOut.close();
    }
  }, 30_000);
});
