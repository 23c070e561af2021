// Scenario 5: what the gateway costs, against what it could be and what people use instead, in the
// same run and on the same upstream (the client worker answering the list from its cache):
// - forwarding (edge cache off): worker direct; the least a Bun proxy can do (minimal-forwarder.ts);
//   nginx with upstream keep-alive (peers/nginx.ts); @fastify/http-proxy on Node
//   (peers/fastify-proxy.mjs); our gateway;
// - the edge hit: our gateway as deployed against a minimal Bun.serve doing the same token check,
//   Redis reads and body (peers/minimal-edge.ts); and the gateway's /health, reported, not a target.
// Measured in rounds (rounds.ts), each ratio taken within a round.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { collectOutput, findFreePort, stopChild, waitForPort } from '../stack/processes.ts';
import { startRedis } from '../stack/redis.ts';
import { startService } from './bench-stack.ts';
import type { LoadResult } from './load.ts';
import { runLoad } from './load.ts';
import { startNginx } from './peers/nginx.ts';
import { measureInRounds, medianRun, type RoundsOptions, ratioOfRounds } from './rounds.ts';
import { LIST_PATH, type ScenarioOptions, serviceEnv, startSystem, stopAll, tokenFor } from './scenarios.ts';

const TARGETS = [
  'direct',
  'minimal',
  'gateway',
  'nginx',
  'fastifyProxy',
  'minimalEdge',
  'edge',
  'gatewayHealth',
] as const;
type Target = (typeof TARGETS)[number];

/** A helper process of this scenario (a peer, `argv` listening on `port`), stopped with the rest. */
export async function startProcess(argv: string[], port: number, what: string, env?: Record<string, string>) {
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), {
    cwd: REPOSITORY_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  const stop = () => stopChild(child, 'SIGTERM', 5_000);
  try {
    await waitForPort(port, what, 15_000, child);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output()}`);
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}

const peer = (file: string) => join(REPOSITORY_ROOT, 'tools/bench', file);
export async function runGatewayCost(options: ScenarioOptions & RoundsOptions) {
  const { stack } = options;
  const redis = await startRedis();
  const system = await startSystem(stack, { CACHE_ENABLED: 'true', REDIS_URL: redis.url });
  const upstream = system.client.url;
  const stoppers: (() => Promise<void>)[] = [];
  try {
    const forwardingOnly = await startService('gateway/server.ts', {
      ...serviceEnv(stack, { CACHE_ENABLED: 'true', REDIS_URL: redis.url, EDGE_CACHE_ENABLED: 'false' }),
      AUTH_SERVICE_URL: upstream,
      USER_SERVICE_URL: upstream,
      CLIENT_SERVICE_URL: upstream,
    });
    stoppers.push(() => forwardingOnly.stop());
    const started = async (argv: (port: number) => string[], what: string, env?: Record<string, string>) => {
      const port = await findFreePort();
      const running = await startProcess(argv(port), port, what, env);
      stoppers.push(running.stop);
      return running.url;
    };
    const nginx = await startNginx(upstream);
    stoppers.push(nginx.stop);
    const bases: Record<Target, { base: string; path?: string }> = {
      direct: { base: upstream },
      minimal: {
        base: await started(
          (port) => ['bun', peer('minimal-forwarder.ts'), String(port), upstream],
          'minimal forwarder',
        ),
      },
      nginx: { base: nginx.url },
      fastifyProxy: {
        base: await started(
          (port) => ['node', peer('peers/fastify-proxy.mjs'), String(port), upstream],
          'fastify proxy',
        ),
      },
      gateway: { base: forwardingOnly.url },
      minimalEdge: {
        base: await started(
          (port) => ['bun', '--no-env-file', peer('peers/minimal-edge.ts'), String(port), redis.url, upstream],
          'minimal edge',
          { JWT_PUBLIC_KEY: stack.keys.publicKey },
        ),
      },
      edge: { base: system.gateway.url },
      gatewayHealth: { base: system.gateway.url, path: '/health' },
    };
    const headers = { authorization: `Bearer ${tokenFor(stack)}` };
    const measure = (target: Target, seconds: number) => {
      const { base, path = LIST_PATH } = bases[target];
      return runLoad([{ url: `${base}${path}`, headers, connections: 64 }], seconds, stack.serverConnections);
    };
    // Fills the worker's cache entry and the session standing the edge needs (through the gateway as
    // deployed); in a full run also opens every peer's pools first. A quick run skips those seconds.
    for (const target of options.warmUpEvery ? TARGETS : (['edge'] as const)) await measure(target, 1);
    const runs = await measureInRounds('scenario 5', TARGETS, options, measure);
    const ratio = (a: Target, b: Target) => ratioOfRounds(runs[a], runs[b], (run) => run.requestsPerSecond);
    const rows = Object.fromEntries(TARGETS.map((target) => [target, medianRun(runs[target])])) as Record<
      Target,
      LoadResult
    >;
    return {
      ...rows,
      /** Every measured run, each of which the outcome checks look at, named by target and round. */
      all: TARGETS.flatMap((target) => runs[target].map((run, round) => ({ target, round: round + 1, run }))),
      ratios: {
        gatewayVsMinimal: ratio('gateway', 'minimal'),
        gatewayVsNginx: ratio('gateway', 'nginx'),
        gatewayVsFastifyProxy: ratio('gateway', 'fastifyProxy'),
        minimalVsDirect: ratio('minimal', 'direct'),
        edgeVsMinimalEdge: ratio('edge', 'minimalEdge'),
        cachedListVsHealth: ratio('edge', 'gatewayHealth'),
      },
    };
  } finally {
    await Promise.allSettled(stoppers.map((stop) => stop()));
    await stopAll(system.all);
    await redis.stop();
  }
}
