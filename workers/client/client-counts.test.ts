// client_counts: each owner's number of clients, kept by statement triggers on clients (see the
// migration 20261202100000_client_counts), is what the unfiltered list reports as its total. After
// every kind of write it must equal a count of the rows: bulk and single inserts, a client moved to
// another owner, updates that move nothing, deletes, and a deleted owner.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { PrismaClient } from '../../shared/db.ts';
import { insertTestOwner, openTestPrisma, sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../../tools/testing/test-stack.ts';
import { createClientRepository } from './client-repository.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let database: ReturnType<typeof openTestPrisma>;
let prisma: PrismaClient;
beforeAll(() => {
  database = openTestPrisma();
  prisma = database.prisma;
});
afterAll(() => database?.close());

const newOwner = () => insertTestOwner('counts');

/** The kept count (null: no row) and the real one, per owner. */
async function counts(ownerIds: string[]) {
  const rows = await sqlOnTestDatabase(
    `SELECT o.id, (SELECT total FROM client_counts WHERE owner_id = o.id) AS kept,
            (SELECT count(*)::int FROM clients WHERE owner_id = o.id) AS real
     FROM unnest($1::uuid[]) AS o(id)`,
    [ownerIds],
  );
  return rows.map((row) => ({ kept: row.kept as number | null, real: row.real as number }));
}

test('the kept count follows inserts, moves, updates, deletes and a deleted owner', async () => {
  const [a, b, c] = [await newOwner(), await newOwner(), await newOwner()];
  const clients = createClientRepository(prisma);
  expect(await counts([a])).toEqual([{ kept: null, real: 0 }]);
  expect((await clients.listForOwner({ ownerId: a, page: 1, limit: 20, sort: '-createdAt' })).total).toBe(0);

  // One statement for two owners, then single creates through Prisma.
  await sqlOnTestDatabase(
    `INSERT INTO clients (id, owner_id, name, updated_at)
     SELECT gen_random_uuid(), CASE WHEN i % 3 = 0 THEN $2::uuid ELSE $1::uuid END, 'Client ' || i, now()
     FROM generate_series(1, 30) i`,
    [a, b],
  );
  const created = await clients.create(a, { name: 'One more' });
  await clients.create(b, { name: 'Another' });
  expect(await counts([a, b])).toEqual([
    { kept: 21, real: 21 },
    { kept: 11, real: 11 },
  ]);

  // Updates that keep the owner change nothing; moving clients changes both owners.
  await clients.updateForOwner(created.id, a, { name: 'Renamed' });
  await sqlOnTestDatabase("UPDATE clients SET notes = 'n' WHERE owner_id = $1", [a]);
  await sqlOnTestDatabase(
    // Five of a's clients, not the one deleted below by its owner a.
    'UPDATE clients SET owner_id = $2 WHERE id IN (SELECT id FROM clients WHERE owner_id = $1 AND id <> $3 LIMIT 5)',
    [a, c, created.id],
  );
  expect(await counts([a, b, c])).toEqual([
    { kept: 16, real: 16 },
    { kept: 11, real: 11 },
    { kept: 5, real: 5 },
  ]);

  await clients.deleteForOwner(created.id, a);
  await sqlOnTestDatabase('DELETE FROM clients WHERE id IN (SELECT id FROM clients WHERE owner_id = $1 LIMIT 4)', [b]);
  expect(await counts([a, b, c])).toEqual([
    { kept: 15, real: 15 },
    { kept: 7, real: 7 },
    { kept: 5, real: 5 },
  ]);
  const page = await clients.listForOwner({ ownerId: a, page: 1, limit: 20, sort: '-createdAt' });
  expect(page.total).toBe(15);
  expect(page.rows).toHaveLength(15);

  // A deleted owner takes its clients and its count with it.
  await sqlOnTestDatabase('DELETE FROM users WHERE id = $1', [b]);
  expect(await counts([b])).toEqual([{ kept: null, real: 0 }]);
});
