// updateForOwner changes and returns the row in one statement. Before, it ran updateMany and then a
// separate findUnique: if the read failed, the update stayed committed while the request failed, so
// the route never invalidated the cache and the old row was served for a TTL. Here the read part is
// made to fail for real: a database role that may update clients but may not read their notes.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { insertTestOwner, openTestPrisma, sqlOnTestDatabase } from '../../tools/testing/helpers.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../../tools/testing/test-stack.ts';
import { createClientRepository } from './client-repository.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const role = `poolwise_no_notes_${process.pid}`;
const password = 'update-only-test-role';
let database: ReturnType<typeof openTestPrisma>;
beforeAll(async () => {
  await sqlOnTestDatabase(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await sqlOnTestDatabase(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await sqlOnTestDatabase(`GRANT UPDATE ON clients TO ${role}`);
  await sqlOnTestDatabase(
    `GRANT SELECT (id, owner_id, name, email, phone, company, status, created_at, updated_at) ON clients TO ${role}`,
  );
  const url = new URL(testStack().directUrl);
  url.username = role;
  url.password = password;
  database = openTestPrisma({ connectionString: url.toString(), max: 1 });
});
afterAll(async () => {
  await database?.close();
  await sqlOnTestDatabase(`DROP OWNED BY ${role}`).catch(() => {});
  await sqlOnTestDatabase(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
});

test('when the row cannot be read back, the update is not committed either', async () => {
  const ownerId = await insertTestOwner('update');
  const [client] = await sqlOnTestDatabase(
    "INSERT INTO clients (id, owner_id, name, notes, updated_at) VALUES (gen_random_uuid(), $1, 'Before', 'secret', now()) RETURNING id",
    [ownerId],
  );
  const clients = createClientRepository(database.prisma);
  await expect(clients.updateForOwner(client.id, ownerId, { name: 'After' })).rejects.toThrow();
  const [row] = await sqlOnTestDatabase('SELECT name FROM clients WHERE id = $1', [client.id]);
  expect(row.name).toBe('Before');
});
