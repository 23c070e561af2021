// Review issue 11, finding 10: starting the embedded PostgreSQL as root made its data folder's parent
// (`.data` for `bun run dev`) world-writable (0777), which let any local user plant files there, JWT
// development keys among them. The server, run as a `postgres` user, only needs to pass through it.
import { afterAll, expect, test } from 'bun:test';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, type PostgresServer, startEmbeddedPostgres } from './postgres.ts';

const checkout = mkdtempSync(join(tmpdir(), 'poolwise-checkout-'));
chmodSync(checkout, 0o755); // like a repository checkout: others may enter it
let server: PostgresServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(checkout, { recursive: true, force: true });
});

test('the embedded PostgreSQL starts while .data stays writable by its owner alone', async () => {
  const dataFolder = join(checkout, '.data');
  mkdirSync(dataFolder, { mode: 0o777 });
  chmodSync(dataFolder, 0o777); // as an older run left it
  server = await startEmbeddedPostgres({ dataDir: join(dataFolder, 'postgres'), persistent: false });
  expect(await canConnect(server.urlFor('postgres'))).toBe(true);
  expect(statSync(dataFolder).mode & 0o022).toBe(0);
}, 60_000);
