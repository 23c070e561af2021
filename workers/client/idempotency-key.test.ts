// Idempotency-Key on POST /api/v1/clients, through the gateway on the real stack (PostgreSQL behind a
// transaction-mode PgBouncer, Redis): a retried create answers the first answer and writes nothing,
// a key reused for another body is a 422, a duplicate that arrives while the first is still in its
// transaction waits for it and replays it, and nothing is remembered for a create that failed.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { fingerprintRequestBody } from '../../shared/http/idempotency-key.ts';
import { sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { call, type RunningSystem, registerUser, startSystem } from '../../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const ROUTE = 'POST /api/v1/clients';

let system: RunningSystem;
let owner: Awaited<ReturnType<typeof registerUser>>;
beforeAll(async () => {
  system = await startSystem();
  owner = await registerUser(system.gatewayUrl, 'idemowner');
});
afterAll(async () => {
  await system?.close();
});

const create = (token: string, body: unknown, key?: string) =>
  call(system.gatewayUrl, 'POST', '/api/v1/clients', {
    token,
    body,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
const replayed = (response: { headers: Headers }) => response.headers.get('idempotent-replayed');

async function clientsNamed(name: string): Promise<number> {
  const [row] = await sqlOnTestDatabase('SELECT count(*)::int AS n FROM clients WHERE name = $1', [name]);
  return row.n;
}
async function storedKeys(ownerId: string, key: string) {
  return sqlOnTestDatabase('SELECT * FROM idempotency_keys WHERE owner_id = $1 AND key = $2', [ownerId, key]);
}

describe('the same key', () => {
  test('with the same body: the first answer again, marked as a replay, and one row', async () => {
    const key = randomUUID();
    const body = { name: `Replay ${key}`, email: 'ops@replay.test', status: 'LEAD' };
    const first = await create(owner.accessToken, body, key);
    expect(first.status).toBe(201);
    expect(replayed(first)).toBeNull();

    for (let i = 0; i < 3; i++) {
      const again = await create(owner.accessToken, body, key);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(replayed(again)).toBe('true');
    }
    expect(await clientsNamed(body.name)).toBe(1);
  });

  test('the same body in another key order or spacing is the same request', async () => {
    const key = randomUUID();
    const name = `Canonical ${key}`;
    const first = await create(owner.accessToken, `{"name":"${name}","company":"Acme"}`, key);
    expect(first.status).toBe(201);
    const again = await create(owner.accessToken, `{ "company" : "Acme",\n "name": "${name}" }`, key);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(await clientsNamed(name)).toBe(1);
  });

  test('quoted (an RFC 8941 string, as the draft writes it) and bare are the same key', async () => {
    const key = randomUUID();
    const body = { name: `Quoted ${key}` };
    const first = await create(owner.accessToken, body, `"${key}"`);
    expect(first.status).toBe(201);
    const bare = await create(owner.accessToken, body, key);
    expect(bare.body).toEqual(first.body);
    expect(replayed(bare)).toBe('true');
    expect(await clientsNamed(body.name)).toBe(1);
  });

  test('with a different body: 422 IDEMPOTENCY_KEY_REUSED in the error shape, nothing written', async () => {
    const key = randomUUID();
    const first = await create(owner.accessToken, { name: `Original ${key}` }, key);
    expect(first.status).toBe(201);
    const other = await create(owner.accessToken, { name: `Changed ${key}` }, key);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({
      statusCode: 422,
      code: 'IDEMPOTENCY_KEY_REUSED',
      error: 'Unprocessable Entity',
    });
    expect(other.body.requestId).toBeString();
    expect(await clientsNamed(`Changed ${key}`)).toBe(0);
    // The key still answers its own request.
    expect((await create(owner.accessToken, { name: `Original ${key}` }, key)).body).toEqual(first.body);
  });

  test('used by another caller: no collision, each gets their own client', async () => {
    const other = await registerUser(system.gatewayUrl, 'idemother');
    const key = randomUUID();
    const body = { name: `Shared key ${key}` };
    const mine = await create(owner.accessToken, body, key);
    const theirs = await create(other.accessToken, body, key);
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(replayed(theirs)).toBeNull();
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.body.ownerId).toBe(other.id);
    expect(await clientsNamed(body.name)).toBe(2);
    // And another body under the same key is fine for someone else too.
    const third = await registerUser(system.gatewayUrl, 'idemthird');
    expect((await create(third.accessToken, { name: `Third ${key}` }, key)).status).toBe(201);
  });
});

describe('without a key', () => {
  test('creates exactly as before: two identical POSTs are two clients', async () => {
    const name = `Unkeyed ${randomUUID()}`;
    const first = await create(owner.accessToken, { name });
    const second = await create(owner.accessToken, { name });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.id).not.toBe(first.body.id);
    expect(replayed(second)).toBeNull();
    expect(await clientsNamed(name)).toBe(2);
  });
});

describe('the header is validated', () => {
  test('empty, too long, non-ASCII-printable or malformed keys are 400 VALIDATION_FAILED, and nothing is written', async () => {
    const name = `Bad key ${randomUUID()}`;
    for (const key of [
      '""',
      'x'.repeat(256),
      `"${'x'.repeat(256)}"`,
      'has space',
      'a,b',
      '"unterminated',
      'tab\there',
    ]) {
      const response = await create(owner.accessToken, { name }, key);
      expect(response.status, JSON.stringify(key)).toBe(400);
      expect(response.body.code, JSON.stringify(key)).toBe('VALIDATION_FAILED');
    }
    expect(await clientsNamed(name)).toBe(0);
    // 255 characters is the limit, and allowed.
    expect((await create(owner.accessToken, { name }, 'k'.repeat(255))).status).toBe(201);
  });

  test('two Idempotency-Key fields in one request are refused (the draft allows one)', async () => {
    const headers = new Headers({ authorization: `Bearer ${owner.accessToken}`, 'content-type': 'application/json' });
    headers.append('idempotency-key', randomUUID());
    headers.append('idempotency-key', randomUUID());
    const response = await fetch(`${system.gatewayUrl}/api/v1/clients`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'Two keys' }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('VALIDATION_FAILED');
  });
});

describe('concurrent duplicates', () => {
  test('20 trials of 6 simultaneous POSTs with one key, across two client replicas: one row per key, six identical 201 answers', async () => {
    // Two replicas, each with its own pool of 2: duplicates meet in PostgreSQL, not in one process.
    const replicated = await startSystem({}, { replicas: { client: 2 } });
    const racer = await registerUser(replicated.gatewayUrl, 'idemracer');
    const createThere = (body: unknown, key: string) =>
      call(replicated.gatewayUrl, 'POST', '/api/v1/clients', {
        token: racer.accessToken,
        body,
        headers: { 'idempotency-key': key },
      });
    const trials = 20;
    const concurrent = 6;
    try {
      for (let trial = 0; trial < trials; trial++) {
        const key = randomUUID();
        const body = { name: `Race ${trial} ${key}`, notes: 'same body every time' };
        const answers = await Promise.all(Array.from({ length: concurrent }, () => createThere(body, key)));
        expect(answers.map((answer) => answer.status)).toEqual(Array(concurrent).fill(201));
        for (const answer of answers) expect(answer.body).toEqual(answers[0]?.body);
        expect(answers.filter((answer) => replayed(answer) === null)).toHaveLength(1);
        expect(await clientsNamed(body.name)).toBe(1);

        const reused = await createThere({ ...body, notes: 'another body' }, key);
        expect(reused.status).toBe(422);
        expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      }
      // Both replicas took part.
      const metrics = (await call(replicated.gatewayUrl, 'GET', '/metrics')).body as string;
      for (const { url } of replicated.replicas.client) {
        const created = new RegExp(
          `gateway_upstream_attempts_total\\{upstream="client",replica="${url}",outcome="201"[^}]*\\} (\\d+)`,
        );
        expect(Number(created.exec(metrics)?.[1] ?? 0), url).toBeGreaterThan(0);
      }
    } finally {
      await replicated.close();
    }
  }, 60_000);

  test('a duplicate that arrives while the first is still in its transaction waits, then replays its answer', async () => {
    const key = randomUUID();
    const body = { name: `Waiting ${key}` };
    const firstAnswer = {
      id: randomUUID(),
      ownerId: owner.id,
      name: body.name,
      email: null,
      phone: null,
      company: null,
      status: 'ACTIVE',
      notes: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    // The "first request": its key row is written but not committed yet.
    const first = new pg.Client({ connectionString: testStack().directUrl });
    await first.connect();
    try {
      await first.query('BEGIN');
      await first.query(
        `INSERT INTO idempotency_keys (owner_id, route, key, request_hash, response_status, response_body, expires_at)
         VALUES ($1, $2, $3, $4, 201, $5, now() + interval '1 day')`,
        [owner.id, ROUTE, key, fingerprintRequestBody(body), JSON.stringify(firstAnswer)],
      );
      let settled = false;
      const duplicate = create(owner.accessToken, body, key).finally(() => {
        settled = true;
      });
      await Bun.sleep(300);
      expect(settled).toBe(false);
      await first.query('COMMIT');
      const answer = await duplicate;
      expect(answer.status).toBe(201);
      expect(answer.body).toEqual(firstAnswer);
      expect(replayed(answer)).toBe('true');
      expect(await clientsNamed(body.name)).toBe(0); // the duplicate wrote nothing of its own
    } finally {
      await first.end();
    }
  });

  test('a first request that holds its key too long: 409 IDEMPOTENCY_KEY_IN_PROGRESS with Retry-After; after it fails, the retry writes', async () => {
    const key = randomUUID();
    const body = { name: `Stuck ${key}` };
    const first = new pg.Client({ connectionString: testStack().directUrl });
    await first.connect();
    try {
      await first.query('BEGIN');
      await first.query(
        `INSERT INTO idempotency_keys (owner_id, route, key, request_hash, expires_at)
         VALUES ($1, $2, $3, $4, now() + interval '1 day')`,
        [owner.id, ROUTE, key, fingerprintRequestBody(body)],
      );
      const started = performance.now();
      const waiting = await create(owner.accessToken, body, key);
      expect(waiting.status).toBe(409);
      expect(waiting.body).toMatchObject({ statusCode: 409, code: 'IDEMPOTENCY_KEY_IN_PROGRESS' });
      expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(performance.now() - started).toBeLessThan(4_000);
      await first.query('ROLLBACK');
    } finally {
      await first.end();
    }
    const retry = await create(owner.accessToken, body, key);
    expect(retry.status).toBe(201);
    expect(replayed(retry)).toBeNull();
    expect(await clientsNamed(body.name)).toBe(1);
  });
});

describe('failures and expiry', () => {
  test('a database error mid-way stores no key: the retry with the same key performs the write', async () => {
    const key = randomUUID();
    const name = `Fails once ${key}`;
    // A real error from PostgreSQL inside the create's transaction, after the key row was written.
    await sqlOnTestDatabase(`
      CREATE OR REPLACE FUNCTION refuse_idempotency_test_client() RETURNS trigger AS $fn$
      BEGIN
        IF NEW.name LIKE 'Fails once %' THEN RAISE EXCEPTION 'refused by the test'; END IF;
        RETURN NEW;
      END $fn$ LANGUAGE plpgsql`);
    await sqlOnTestDatabase(
      'CREATE TRIGGER refuse_idempotency_test_client BEFORE INSERT ON clients FOR EACH ROW EXECUTE FUNCTION refuse_idempotency_test_client()',
    );
    try {
      const failed = await create(owner.accessToken, { name }, key);
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(await storedKeys(owner.id, key)).toEqual([]);
    } finally {
      await sqlOnTestDatabase('DROP TRIGGER refuse_idempotency_test_client ON clients');
      await sqlOnTestDatabase('DROP FUNCTION refuse_idempotency_test_client()');
    }
    const retry = await create(owner.accessToken, { name }, key);
    expect(retry.status).toBe(201);
    expect(replayed(retry)).toBeNull();
    expect(await clientsNamed(name)).toBe(1);
    expect(await storedKeys(owner.id, key)).toHaveLength(1);
  });

  test('the stored row holds a hash of the body, the answer, and an expiry 24 hours on', async () => {
    const key = randomUUID();
    const body = { name: `Stored ${key}`, notes: 'secret notes stay out of the key table' };
    const created = await create(owner.accessToken, body, key);
    const [row] = await storedKeys(owner.id, key);
    expect(row.route).toBe(ROUTE);
    expect(row.request_hash).toBe(fingerprintRequestBody(body));
    expect(row.request_hash).not.toContain('secret');
    expect(row.response_status).toBe(201);
    expect(row.response_body).toEqual(created.body);
    const hours = (row.expires_at.getTime() - row.created_at.getTime()) / 3_600_000;
    expect(hours).toBeCloseTo(24, 3);
  });

  test('an expired key is ignored and can be used again, for any body', async () => {
    const key = randomUUID();
    const first = await create(owner.accessToken, { name: `Before expiry ${key}` }, key);
    expect(first.status).toBe(201);
    await sqlOnTestDatabase(
      "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE owner_id = $1 AND key = $2",
      [owner.id, key],
    );
    const after = await create(owner.accessToken, { name: `After expiry ${key}` }, key);
    expect(after.status).toBe(201);
    expect(replayed(after)).toBeNull();
    expect(after.body.id).not.toBe(first.body.id);
    const [row] = await storedKeys(owner.id, key);
    expect(row.response_body.id).toBe(after.body.id);
  });

  test('storing a new key deletes expired ones (a bounded sweep)', async () => {
    const stale = await registerUser(system.gatewayUrl, 'idemstale');
    await sqlOnTestDatabase(
      `INSERT INTO idempotency_keys (owner_id, route, key, request_hash, response_status, response_body, created_at, expires_at)
       SELECT $1, $2, 'stale-' || n, 'x', 201, '{}', now() - interval '2 days', now() - interval '1 day'
       FROM generate_series(1, 10) AS n`,
      [stale.id, ROUTE],
    );
    expect((await create(owner.accessToken, { name: `Sweeper ${randomUUID()}` }, randomUUID())).status).toBe(201);
    const [left] = await sqlOnTestDatabase(
      'SELECT count(*)::int AS n FROM idempotency_keys WHERE owner_id = $1 AND expires_at <= now()',
      [stale.id],
    );
    expect(left.n).toBe(0);
  });
});

describe('the read cache', () => {
  test('a replay drops the owner’s cached lists, so a first attempt whose answer was lost is seen at once', async () => {
    const user = await registerUser(system.gatewayUrl, 'idemcache');
    const list = () => call(system.gatewayUrl, 'GET', '/api/v1/clients', { token: user.accessToken });
    for (let i = 0; i < 20 && (await list()).headers.get('x-cache') !== 'hit'; i++) await Bun.sleep(20);
    expect((await list()).headers.get('x-cache')).toBe('hit');

    // What a first attempt leaves when its worker dies after the commit, before it could drop the
    // cached lists or answer: the client and its key row, committed together.
    const key = randomUUID();
    const body = { name: `Lost answer ${key}` };
    const [row] = await sqlOnTestDatabase(
      `INSERT INTO clients (id, owner_id, name, updated_at) VALUES (gen_random_uuid(), $1, $2, now())
       RETURNING id, owner_id AS "ownerId", name, email, phone, company, status, notes,
                 to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt",
                 to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"`,
      [user.id, body.name],
    );
    await sqlOnTestDatabase(
      `INSERT INTO idempotency_keys (owner_id, route, key, request_hash, response_status, response_body, expires_at)
       VALUES ($1, $2, $3, $4, 201, $5, now() + interval '1 day')`,
      [user.id, ROUTE, key, fingerprintRequestBody(body), JSON.stringify(row)],
    );
    expect((await list()).body.data).toEqual([]); // still the cached page

    const retry = await create(user.accessToken, body, key);
    expect(retry.status).toBe(201);
    expect(replayed(retry)).toBe('true');
    expect(retry.body).toEqual(row);
    const after = await list();
    expect(after.headers.get('x-cache')).toBe('miss');
    expect(after.body.data.map((client: { id: string }) => client.id)).toEqual([row.id]);
  });

  test('a keyed create drops the cached lists like any create, and its replays do not add rows to them', async () => {
    const user = await registerUser(system.gatewayUrl, 'idemcache2');
    const list = () => call(system.gatewayUrl, 'GET', '/api/v1/clients', { token: user.accessToken });
    await list();
    const key = randomUUID();
    await create(user.accessToken, { name: 'Listed once' }, key);
    await create(user.accessToken, { name: 'Listed once' }, key);
    const after = await list();
    expect(after.body.meta.total).toBe(1);
    expect(after.body.data.map((client: { name: string }) => client.name)).toEqual(['Listed once']);
  });
});

describe('the contract', () => {
  test('the OpenAPI document describes the header and the 409 and 422 answers', async () => {
    const response = await call(system.gatewayUrl, 'GET', '/openapi.json');
    const operation = response.body.paths['/api/v1/clients'].post;
    const header = operation.parameters.find(
      (parameter: { in: string; name: string }) =>
        parameter.in === 'header' && parameter.name.toLowerCase() === 'idempotency-key',
    );
    expect(header).toBeDefined();
    expect(header.required).toBeFalsy();
    expect(header.description).toContain('24 hours');
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['201', '400', '409', '422']));
  });
});
