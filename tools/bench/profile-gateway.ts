// `bun --no-env-file tools/bench/profile-gateway.ts [forward|edge|shed|scale] [OUT_DIR]`: a CPU profile of
// the gateway under scenario 5's load (64 connections, 12 s, cores pinned as in the bench), to see what
// bounds a ratio rather than guess. `forward`: edge cache off, the worker-cached list forwarded;
// `edge`: pages answered at the edge; `shed`: scenario 8's crowd, 10,000 connections on the database
// path asking again at once after a 503 (what a refusal costs); `scale`: scenario 3's 1,000 clients
// on the database path (most of them told 503 after waiting out the gateway's queue). Bun writes a .cpuprofile (Chrome DevTools) and a Markdown
// summary (--cpu-prof-md) into OUT_DIR when the gateway exits. Run it under the load lock like the bench.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { findFreePort, stopChild, waitForPort } from '../stack/processes.ts';
import { startRedis } from '../stack/redis.ts';
import { startBenchStack } from './bench-stack.ts';
import { pinBenchProcess } from './cpu-pinning.ts';
import { runLoad } from './load.ts';
import { ensureOpenFiles } from './open-files.ts';
import { LIST_PATH, serviceEnv, startSystem, stopAll, tokenFor } from './scenarios.ts';

const mode = (['edge', 'shed', 'scale'] as const).find((name) => name === process.argv[2]) ?? 'forward';
const connections = { forward: 64, edge: 64, shed: 10_000, scale: 1_000 }[mode];
/** The database path: neither the gateway's edge nor the worker answers from Redis. */
const databasePath = mode === 'shed' || mode === 'scale';
if (connections > 64) ensureOpenFiles(connections + 512);
const outDir = resolve(process.argv[3] ?? join(REPOSITORY_ROOT, '.data', 'profiles'));
mkdirSync(outDir, { recursive: true });
pinBenchProcess();
const stack = await startBenchStack({ users: 200, clients: 20_000, progress: () => {} });
const redis = await startRedis();
const system = await startSystem(stack, { CACHE_ENABLED: databasePath ? 'false' : 'true', REDIS_URL: redis.url });
const upstream = system.client.url;
const port = await findFreePort();
// The bench's service settings (bench-stack.ts startService), plus the profiler's flags.
const gateway = spawn(
  'bun',
  [
    '--no-env-file',
    '--cpu-prof',
    '--cpu-prof-md',
    '--cpu-prof-dir',
    outDir,
    join(REPOSITORY_ROOT, 'gateway/server.ts'),
  ],
  {
    cwd: REPOSITORY_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      NODE_ENV: 'development',
      LOG_LEVEL: 'error',
      LOG_PRETTY: 'false',
      RATE_LIMIT_MAX: '10000000',
      AUTH_RATE_LIMIT_MAX: '1000000',
      ...serviceEnv(stack, {
        CACHE_ENABLED: databasePath ? 'false' : 'true',
        REDIS_URL: redis.url,
        EDGE_CACHE_ENABLED: mode === 'edge' ? 'true' : 'false',
      }),
      AUTH_SERVICE_URL: upstream,
      USER_SERVICE_URL: upstream,
      CLIENT_SERVICE_URL: upstream,
      GATEWAY_PORT: String(port),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
try {
  await waitForPort(port, 'gateway', 20_000, gateway);
  const headers = { authorization: `Bearer ${tokenFor(stack)}` };
  // Fills the worker's cache and the session standing the edge reads.
  await runLoad([{ url: `${system.gateway.url}${LIST_PATH}`, headers, connections: 64 }], 2, stack.serverConnections);
  const result = await runLoad(
    [{ url: `http://127.0.0.1:${port}${LIST_PATH}`, headers, connections }],
    12,
    stack.serverConnections,
  );
  console.log(`${mode}: ${result.requestsPerSecond} req/s, errors ${JSON.stringify(result.errors)}`);
} finally {
  await stopChild(gateway, 'SIGTERM', 10_000); // the profile is written as it exits
  await stopAll(system.all);
  await redis.stop();
  await stack.close();
}
console.log(`profile written to ${outDir}`);
