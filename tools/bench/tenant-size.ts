// Scenario 9 (issue #15, item 2): what a client-list page costs against the size of the tenant. One
// owner with a million clients (100,000 in --quick) next to one with 50, in the bench's database;
// each request the median of a run of them one at a time through the gateway, database path
// (`cache-control: no-cache`), the two owners taking turns so both see the same noise. Target: every
// page of the large owner within 2x the small owner's (page 1 without a filter for the deep pages,
// the same query otherwise). The plan of each statement the large owner's page ran is printed as its
// shape (the nodes and the indexes), to show every sort and filter is served by an index.

import pg from 'pg';
import { readClientListPage } from '../../workers/client/client-list-page.ts';
import type { ClientListQuery } from '../../workers/client/client-repository.ts';
import type { BenchStack } from './bench-stack.ts';
import { fetchPatiently } from './load.ts';
import { median } from './median.ts';
import { type ScenarioOptions, startSystem, stopAll, tokenFor } from './scenarios.ts';

export const TENANT_TARGET = 2;

export interface TenantSizeCase {
  what: string;
  /** The large owner's median, the small owner's, and large / small. */
  largeMs: number;
  smallMs: number;
  ratio: number;
  /** What the small owner was asked for. */
  against: string;
  plan: string[];
}

interface Owner {
  id: string;
  token: string;
}

const CASES: { what: string; large: string; small: string }[] = [
  { what: 'page 1', large: 'page=1', small: 'page=1' },
  { what: 'page 1, search=acme', large: 'page=1&search=acme', small: 'page=1&search=acme' },
  { what: 'page 1, status=LEAD', large: 'page=1&status=LEAD', small: 'page=1&status=LEAD' },
  { what: 'page 1, sort=name', large: 'page=1&sort=name', small: 'page=1&sort=name' },
  { what: 'page 10,000', large: 'page=10000', small: 'page=1' },
  { what: 'page 10,000, sort=name', large: 'page=10000&sort=name', small: 'page=1' },
  { what: 'page 10,000, sort=createdAt', large: 'page=10000&sort=createdAt', small: 'page=1' },
  { what: 'the last page by number', large: 'page=LAST', small: 'page=1' },
];

export async function runTenantSize(
  options: ScenarioOptions & { largeClients: number; samples: number },
): Promise<{ largeClients: number; cases: TenantSizeCase[]; marksBuiltMs: number; refused: number }> {
  const { stack, log } = options;
  const direct = new pg.Pool({ connectionString: stack.directUrl, max: 2 });
  try {
    log(`seeding one owner with ${options.largeClients.toLocaleString()} clients and one with 50`);
    const large = await seedOwner(direct, stack, 'large', options.largeClients);
    const small = await seedOwner(direct, stack, 'small', 50);
    // As autovacuum leaves a table at rest: statistics, and the visibility map index-only scans read.
    await direct.query('VACUUM ANALYZE clients');
    const lastPage = Math.ceil(options.largeClients / 20);
    const system = await startSystem(stack, {});
    try {
      let refused = 0;
      // One request's latency; 503s are waited out and not timed (fetchPatiently).
      const get = async (owner: Owner, query: string): Promise<number> => {
        const answer = await fetchPatiently(`${system.gateway.url}/api/v1/clients?limit=20&${query}`, {
          headers: { authorization: `Bearer ${owner.token}`, 'cache-control': 'no-cache' },
        });
        refused += answer.refused;
        if (answer.status !== 200) throw new Error(`${query}: ${answer.status} ${answer.body}`);
        return answer.ms;
      };
      // The first deep pages find no page marks: they answer by OFFSET and the worker builds them, one
      // order at a time, so the deep pages are asked for again (as a reader paging on would) until
      // both orders' marks are current.
      const asked = performance.now();
      const askForMarks = async () => {
        await get(large, `page=${lastPage}`);
        await get(large, `page=${lastPage}&sort=name`);
      };
      const marksBuiltMs = await untilMarksAreCurrent(direct, large.id, asked, askForMarks);
      log(`page marks for both orders current ${Math.round(marksBuiltMs)} ms after the first deep pages asked`);
      const cases: TenantSizeCase[] = [];
      for (const { what, large: largeQuery, small: smallQuery } of CASES) {
        const query = largeQuery.replace('LAST', String(lastPage));
        const largeTimes: number[] = [];
        const smallTimes: number[] = [];
        for (let i = 0; i < 5; i++) await Promise.all([get(large, query), get(small, smallQuery)]);
        for (let i = 0; i < options.samples; i++) {
          largeTimes.push(await get(large, query));
          smallTimes.push(await get(small, smallQuery));
        }
        const [largeMs, smallMs] = [median(largeTimes), median(smallTimes)];
        const plan = await planShape(direct, queryFor(large.id, query));
        cases.push({ what, largeMs, smallMs, ratio: round(largeMs / smallMs), against: smallQuery, plan });
        log(
          `${what}: ${largeMs.toFixed(2)} ms / ${smallMs.toFixed(2)} ms (${smallQuery}) = ${round(largeMs / smallMs)}x`,
        );
        for (const line of plan) log(`    ${line}`);
      }
      if (refused) log(`${refused} request(s) answered 503 and asked again (not timed)`);
      return { largeClients: options.largeClients, cases, marksBuiltMs: Math.round(marksBuiltMs), refused };
    } finally {
      await stopAll(system.all);
    }
  } finally {
    await direct.end();
  }
}

/** An owner with a live session and `count` clients; one in 50 of them an "Acme", spread through the list. */
async function seedOwner(pool: pg.Pool, stack: BenchStack, label: string, count: number): Promise<Owner> {
  const { rows } = await pool.query(
    `INSERT INTO users (id, email, password_hash, name, updated_at)
     VALUES (gen_random_uuid(), $1, 'not-a-login', $1, now()) RETURNING id`,
    [`${label}-tenant@bench.test`],
  );
  const id = rows[0].id as string;
  const family = await pool.query(
    `INSERT INTO refresh_families (id, user_id, expires_at) VALUES (gen_random_uuid(), $1, now() + interval '1 day')
     RETURNING id`,
    [id],
  );
  await insertClients(pool, id, count);
  return { id, token: tokenFor(stack, { id, sessionId: family.rows[0].id }) };
}

/**
 * `count` clients for one owner, generated in SQL (a million take about a minute). created_at repeats
 * every 1,000 rows, so the id tie-breaker is exercised; one client in 50 of every timestamp is an Acme,
 * so matches are spread through the list as in life. Shared with list-cost.ts.
 */
export async function insertClients(db: Pick<pg.ClientBase, 'query'>, ownerId: string, count: number) {
  await db.query(
    `INSERT INTO clients (id, owner_id, name, email, company, status, created_at, updated_at)
     SELECT gen_random_uuid(), $1, CASE WHEN (i / 1000) % 50 = i % 50 THEN 'Acme ' ELSE 'Client ' END || i,
            'c' || i || '@example.test', 'Company ' || (i % 97),
            (ARRAY['ACTIVE','INACTIVE','LEAD'])[1 + i % 3]::"ClientStatus",
            timestamptz '2026-01-01' + ((i % 1000) || ' seconds')::interval, now()
     FROM generate_series(1, $2) i`,
    [ownerId, count],
  );
}

async function untilMarksAreCurrent(
  pool: pg.Pool,
  ownerId: string,
  since: number,
  askForMarks: () => Promise<void>,
): Promise<number> {
  for (let tries = 0; tries < 1_200; tries++) {
    if (tries % 10 === 0) await askForMarks();
    const { rows } = await pool.query(
      `SELECT count(DISTINCT mark.sort_key)::int AS orders FROM client_page_marks AS mark
       JOIN client_counts USING (owner_id, version) WHERE mark.owner_id = $1`,
      [ownerId],
    );
    if (rows[0].orders === 2) return performance.now() - since;
    await Bun.sleep(50);
  }
  throw new Error('the page marks were never built');
}

/** The same query as the repository would read it from the route. */
function queryFor(ownerId: string, query: string): ClientListQuery {
  const params = new URLSearchParams(query);
  return {
    ownerId,
    page: Number(params.get('page') ?? 1),
    limit: 20,
    sort: (params.get('sort') ?? '-createdAt') as ClientListQuery['sort'],
    search: params.get('search') ?? undefined,
    status: (params.get('status') ?? undefined) as ClientListQuery['status'],
  };
}

/**
 * The plan of every statement the page ran (a deep page: the one from the marks), reduced to its
 * shape: each node with the index it uses, no costs, no conditions.
 */
export async function planShape(pool: pg.Pool, query: ClientListQuery): Promise<string[]> {
  const statements: { text: string; values: unknown[] }[] = [];
  await readClientListPage(query, async (statement) => {
    statements.push(statement);
    return (await pool.query(statement.text, statement.values)).rows;
  });
  const shape: string[] = [];
  for (const statement of statements) {
    const { rows } = await pool.query(`EXPLAIN (COSTS OFF) ${statement.text}`, statement.values);
    for (const row of rows) {
      const line = row['QUERY PLAN'] as string;
      if (
        /^\s*(->|[A-Z])/.test(line) &&
        !/^\s*(Filter|Index Cond|Sort Key|Group Key|Recheck Cond|Hash Cond|Join Filter|Output)\b/.test(line)
      ) {
        shape.push(line.replace(/\s+\(.*$/, ''));
      }
    }
  }
  return shape;
}

const round = (value: number) => Math.round(value * 100) / 100;
