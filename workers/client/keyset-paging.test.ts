// Keyset paging on the real stack, through the gateway: one owner with 200,000 clients (seeded in SQL,
// with many equal timestamps and names, so only the id tie-breaker keeps pages apart) next to a small
// one. Walking by `after` returns every matching row once, in the order PostgreSQL itself sorts them,
// for every sort; it stays right while clients are created during the walk; a deep page by number is
// what OFFSET gives, with the owner's page marks and without; and a filter on the large owner is not
// counted past what the page has seen, and says so.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';
import { encodeListCursor } from './list-cursor.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const LARGE = 200_000;
const SORT_SQL = {
  '-createdAt': 'created_at DESC, id DESC',
  createdAt: 'created_at ASC, id ASC',
  name: 'name ASC, id ASC',
  '-name': 'name DESC, id DESC',
} as const;
type Sort = keyof typeof SORT_SQL;

let system: RunningSystem;
let large: Awaited<ReturnType<typeof registerUser>>;
let small: Awaited<ReturnType<typeof registerUser>>;
beforeAll(async () => {
  system = await startSystem();
  [large, small] = [await registerUser(system.gatewayUrl, 'large'), await registerUser(system.gatewayUrl, 'small')];
  // Timestamps repeat every 1,000 rows and names every 5,000 (in three letter cases): ties everywhere.
  // One client in 50 is an "Acme", the subset the walks below read end to end.
  await sqlOnTestDatabase(
    `INSERT INTO clients (id, owner_id, name, email, company, status, created_at, updated_at)
     SELECT gen_random_uuid(), $1,
            (ARRAY['client ', 'Client ', 'CLIENT '])[1 + i % 3] || (i % 5000) || CASE WHEN i % 50 = 0 THEN ' Acme' ELSE '' END,
            'c' || i || '@example.test', 'Company ' || (i % 97),
            (ARRAY['ACTIVE','INACTIVE','LEAD'])[1 + i % 3]::"ClientStatus",
            timestamptz '2026-01-01' + ((i % 1000) || ' seconds')::interval, now()
     FROM generate_series(1, $2) i`,
    [large.id, LARGE],
  );
  await sqlOnTestDatabase(
    `INSERT INTO clients (id, owner_id, name, company, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'Small ' || (i % 7), 'Acme', timestamptz '2026-01-01' + ((i % 5) || ' seconds')::interval, now()
     FROM generate_series(1, 50) i`,
    [small.id],
  );
  await sqlOnTestDatabase('ANALYZE clients');
}, 120_000);
afterAll(async () => {
  await system?.close();
});

const list = (token: string, query: string) =>
  call(system.gatewayUrl, 'GET', `/api/v1/clients?${query}`, { token, headers: { 'cache-control': 'no-cache' } });

/** Follows meta.next from the first page to the last; every page is checked against the contract. */
async function walk(token: string, query: string) {
  const ids: string[] = [];
  let next: string | undefined;
  for (let pages = 0; pages < 1_000; pages++) {
    const response = await list(token, next ? `${query}&after=${next}` : query);
    expect(response.status).toBe(200);
    ids.push(...response.body.data.map((client: { id: string }) => client.id));
    next = response.body.meta.next;
    if (!next) return ids;
  }
  throw new Error('the walk never ended');
}

async function expectedIds(ownerId: string, sort: Sort, filter = '') {
  const rows = await sqlOnTestDatabase(
    `SELECT id FROM clients WHERE owner_id = $1 ${filter} ORDER BY ${SORT_SQL[sort]}`,
    [ownerId],
  );
  return rows.map((row) => row.id as string);
}

describe('walking by cursor', () => {
  test('every sort: each matching row once, in PostgreSQL’s own order (ICU names, id ties), large owner', async () => {
    const acme = "AND (name ILIKE '%acme%' OR email ILIKE '%acme%' OR company ILIKE '%acme%')";
    for (const sort of Object.keys(SORT_SQL) as Sort[]) {
      const walked = await walk(large.accessToken, `search=acme&limit=100&sort=${sort}`);
      expect(walked.length, sort).toBe(LARGE / 50);
      expect(walked, sort).toEqual(await expectedIds(large.id, sort, acme));
    }
  }, 120_000);

  test('every sort on the small owner, with a page size that does not divide its 50 clients', async () => {
    for (const sort of Object.keys(SORT_SQL) as Sort[]) {
      expect(await walk(small.accessToken, `limit=7&sort=${sort}`), sort).toEqual(await expectedIds(small.id, sort));
    }
  });

  test('a deep page by cursor is the rows right after the cursor’s row', async () => {
    const [row] = await sqlOnTestDatabase(
      `SELECT id, name, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt"
       FROM clients WHERE owner_id = $1 ORDER BY created_at DESC, id DESC OFFSET 150000 LIMIT 1`,
      [large.id],
    );
    const page = await list(large.accessToken, `limit=20&after=${encodeListCursor('-createdAt', row)}`);
    const all = await expectedIds(large.id, '-createdAt');
    expect(page.body.data.map((client: { id: string }) => client.id)).toEqual(all.slice(150_001, 150_021));
    expect(page.body.meta.page).toBeUndefined();
  });

  test('clients created during a walk never make it repeat or skip a row that was there before', async () => {
    const owner = await registerUser(system.gatewayUrl, 'walker');
    for (let i = 0; i < 30; i++) {
      await call(system.gatewayUrl, 'POST', '/api/v1/clients', {
        token: owner.accessToken,
        body: { name: `Walk ${i % 4}` },
      });
    }
    for (const sort of ['-createdAt', 'name'] as const) {
      const before = await expectedIds(owner.id, sort);
      const seen: string[] = [];
      let next: string | undefined;
      let created = 0;
      do {
        const page = await list(owner.accessToken, `limit=4&sort=${sort}${next ? `&after=${next}` : ''}`);
        seen.push(...page.body.data.map((client: { id: string }) => client.id));
        next = page.body.meta.next;
        // A new client between every two pages: newest first puts it before the cursor, by name anywhere.
        await call(system.gatewayUrl, 'POST', '/api/v1/clients', {
          token: owner.accessToken,
          body: { name: `Walk ${created++ % 4}` },
        });
      } while (next);
      expect(new Set(seen).size, sort).toBe(seen.length);
      expect(
        seen.filter((id) => before.includes(id)),
        sort,
      ).toEqual(before);
      if (sort === '-createdAt') expect(seen, sort).toEqual(before);
    }
  }, 60_000);
});

describe('totals and the paging contract', () => {
  test('unfiltered totals are exact; a filter on a large owner counts what it has seen, exact on its last page', async () => {
    const big = await list(large.accessToken, 'limit=20');
    expect(big.body.meta).toMatchObject({ page: 1, limit: 20, total: LARGE, totalPages: LARGE / 20 });
    expect(big.body.meta.totalIsLowerBound).toBeUndefined();
    expect(typeof big.body.meta.next).toBe('string');
    // 4,000 matches among 200,000 clients: not counted (that would cost in proportion to the owner).
    const filtered = await list(large.accessToken, 'search=acme');
    expect(filtered.body.meta).toMatchObject({ total: 21, totalPages: 2, totalIsLowerBound: true });
    const lastByNumber = await list(large.accessToken, 'search=acme&page=200');
    expect(lastByNumber.body.data).toHaveLength(20);
    expect(lastByNumber.body.meta).toEqual({ page: 200, limit: 20, total: LARGE / 50, totalPages: 200 });
    const pastTheEnd = await list(large.accessToken, 'search=acme&page=201');
    expect(pastTheEnd.body.data).toEqual([]);
    expect(pastTheEnd.body.meta).toEqual({ page: 201, limit: 20, total: 0, totalPages: 0, totalIsLowerBound: true });
    // A small owner's matches are counted.
    const few = await list(small.accessToken, 'limit=20');
    expect(few.body.meta).toEqual({ page: 1, limit: 20, total: 50, totalPages: 3, next: few.body.meta.next });
    const searched = await list(small.accessToken, 'search=ACME&limit=20');
    expect(searched.body.meta).toEqual({ page: 1, limit: 20, total: 50, totalPages: 3, next: searched.body.meta.next });
    const last = await list(small.accessToken, 'page=3&limit=20');
    expect(last.body.meta).toEqual({ page: 3, limit: 20, total: 50, totalPages: 3 });
  });

  test('a filter walked by cursor on the large owner says "at least" on every page, the last one too', async () => {
    let next: string | undefined;
    let pages = 0;
    do {
      const page = await list(large.accessToken, `search=acme&limit=100${next ? `&after=${next}` : ''}`);
      expect(page.body.meta.totalIsLowerBound, `page ${pages + 1}`).toBe(true);
      next = page.body.meta.next;
      pages++;
    } while (next);
    expect(pages).toBe(LARGE / 50 / 100);
  }, 60_000);

  test('a deep page by number is the rows OFFSET gives, before and after the owner’s page marks are built', async () => {
    const all = await expectedIds(large.id, 'name');
    const deep = () => list(large.accessToken, 'sort=name&page=7000&limit=20');
    const first = await deep(); // no marks yet: OFFSET, and the worker asks for them
    expect(first.body.data.map((client: { id: string }) => client.id)).toEqual(all.slice(139_980, 140_000));
    const marks = async () =>
      (
        await sqlOnTestDatabase(
          `SELECT count(*)::int AS marks FROM client_page_marks AS mark JOIN client_counts USING (owner_id, version)
           WHERE mark.owner_id = $1 AND mark.sort_key = 'name'`,
          [large.id],
        )
      )[0].marks as number;
    for (let tries = 0; tries < 100 && (await marks()) === 0; tries++) await Bun.sleep(100);
    expect(await marks()).toBe(LARGE / 500);
    const marked = await deep();
    expect(marked.body.data.map((client: { id: string }) => client.id)).toEqual(all.slice(139_980, 140_000));
    expect(marked.body.meta).toMatchObject({ page: 7000, total: LARGE, totalPages: LARGE / 20 });
  });

  test('a page asked for by number still offers the cursor that continues after it', async () => {
    const second = await list(small.accessToken, 'page=2&limit=20');
    const third = await list(small.accessToken, `limit=20&after=${second.body.meta.next}`);
    const byNumber = await list(small.accessToken, 'page=3&limit=20');
    expect(third.body.data).toEqual(byNumber.body.data);
  });

  test('page with after, a cursor of another sort, or a made-up cursor: 400 VALIDATION_FAILED', async () => {
    const first = await list(small.accessToken, 'limit=5');
    for (const query of [
      `page=2&after=${first.body.meta.next}`,
      `sort=name&after=${first.body.meta.next}`,
      'after=bm90LWEtY3Vyc29y',
    ]) {
      const response = await list(small.accessToken, query);
      expect(response.status, query).toBe(400);
      expect(response.body.code, query).toBe('VALIDATION_FAILED');
    }
  });
});
