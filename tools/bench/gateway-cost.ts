// Scenario 5: what the gateway costs, against what it could be and what people use instead, in the
// same run and on the same upstream (the client worker answering the list from its cache):
// - forwarding (edge cache off): worker direct; the least a Bun proxy can do (minimal-forwarder.ts);
//   nginx with upstream keep-alive (peers/nginx.ts); @fastify/http-proxy on Node
//   (peers/fastify-proxy.mjs); our gateway;
// - the edge hit: our gateway as deployed against a minimal Bun.serve doing the same token check,
//   Redis reads and body (peers/minimal-edge.ts); and the gateway's /health, reported, not a target.
// Every target is measured once per round and each ratio is taken within a round, its two sides
// measured next to each other where possible; every other round runs the list backwards, so a drift
// of the machine during a round weighs on both sides alike over the rounds.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { collectOutput, findFreePort, stopChild, waitForPort } from '../stack/processes.ts';
import { startRedis } from '../stack/redis.ts';
import { startService } from './bench-stack.ts';
import type { LoadResult } from './load.ts';
import { runLoad } from './load.ts';
import { median } from './median.ts';
import { startNginx } from './peers/nginx.ts';
import { LIST_PATH, type ScenarioOptions, serviceEnv, startSystem, stopAll, tokenFor } from './scenarios.ts';

export interface RatioSummary {
  /** The median of the per-round ratios. */
  value: number;
  min: number;
  max: number;
  runs: number[];
}

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
const round = (value: number) => Math.round(value * 100) / 100;
export function summarise(ratios: number[]): RatioSummary {
  return {
    value: round(median(ratios)),
    min: round(Math.min(...ratios)),
    max: round(Math.max(...ratios)),
    runs: ratios.map(round),
  };
}

/**
 * Unmeasured load on a target right before each of its measured runs in a full run's rounds. Between
 * two of them a target sits idle while the others are measured (15 s each in a full run): longer than
 * the workers' DB_IDLE_TIMEOUT (10 s), so a worker's pool has closed its connections, and whatever a
 * runtime lets go of when idle is gone. Without it, scenario 6's round that measured Prisma right
 * after its idle was the lowest of three in three full runs of 2026-11-29 (0.89, 0.86 and 0.89).
 */
export const WARM_UP_SECONDS = 2;

/** The row a target reports: its median run by requests per second. */
export function medianRun(runs: LoadResult[]): LoadResult {
  return [...runs].sort((x, y) => x.requestsPerSecond - y.requestsPerSecond)[Math.floor(runs.length / 2)] as LoadResult;
}

export async function runGatewayCost(options: ScenarioOptions & { rounds: number; warmUpEvery: boolean }) {
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
    const runs = Object.fromEntries(TARGETS.map((target) => [target, [] as LoadResult[]])) as Record<
      Target,
      LoadResult[]
    >;
    for (let r = 0; r < options.rounds; r++) {
      options.log(`scenario 5: round ${r + 1} of ${options.rounds}`);
      options.betweenMeasurements?.();
      for (const target of r % 2 ? [...TARGETS].reverse() : TARGETS) {
        if (options.warmUpEvery) await measure(target, WARM_UP_SECONDS);
        runs[target].push(await measure(target, options.seconds));
      }
    }
    const rps = (target: Target) => runs[target].map((run) => run.requestsPerSecond);
    const ratio = (a: Target, b: Target) =>
      summarise(rps(a).map((value, i) => value / Math.max(1, rps(b)[i] as number)));
    const rows = Object.fromEntries(TARGETS.map((target) => [target, medianRun(runs[target])])) as Record<
      Target,
      LoadResult
    >;
    return {
      ...rows,
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
