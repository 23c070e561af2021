// `bun --no-env-file tools/bench/edge-pair.ts [--rounds 5] [--seconds 5] [--against DIR]`: the page
// answered at the gateway's edge against the minimal edge (peers/minimal-edge.ts), both loaded AT ONCE
// on the servers' core, 64 connections each, so that whatever the machine does during a round it does
// to both. Scenario 5 measures them one after the other, and on a machine whose speed drifts (this
// one's moved 20 % within a run, and ran 2.5x slower some evenings) its rounds differ by more than
// the changes being judged; the pair's rounds do not.
//
// Each round reports the gateway's share: requests it served / requests the minimal edge served in
// the same seconds. The scheduler shares the core by thread, so the share leans a little towards the
// process with more threads running (the gateway's larger heap keeps its collector threads busier).
// (CPU time per request from /proc was tried as a second ratio: the control below moved 0.76-1.02 on
// it, so it is not reported.) A control pair of two identical minimal edges shows the method's own
// error in the same run.
//
// `--against DIR` pairs the gateway with the gateway of another checkout instead (for example
// `git worktree add /tmp/before HEAD~1 && ln -s $PWD/node_modules /tmp/before/`): how a change to the
// gateway is priced when the machine is too noisy for scenario 5. Run it under the load lock.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { findFreePort } from '../stack/processes.ts';
import { startRedis } from '../stack/redis.ts';
import { startBenchStack, startService } from './bench-stack.ts';
import { onLoadCore, pinBenchProcess } from './cpu-pinning.ts';
import { startProcess } from './gateway-cost.ts';
import { median } from './median.ts';
import { LIST_PATH, serviceEnv, startSystem, stopAll, tokenFor } from './scenarios.ts';

const { values: flags } = parseArgs({
  options: { rounds: { type: 'string' }, seconds: { type: 'string' }, against: { type: 'string' } },
});
const rounds = Number(flags.rounds ?? 5);
const seconds = Number(flags.seconds ?? 5);
const CONNECTIONS = 64;

interface Server {
  name: string;
  url: string;
  stop(): Promise<unknown>;
}

pinBenchProcess();
const stack = await startBenchStack({ users: 200, clients: 20_000, progress: () => {} });
const redis = await startRedis();
const system = await startSystem(stack, { CACHE_ENABLED: 'true', REDIS_URL: redis.url });
const servers: Server[] = [];
try {
  const minimalEdge = async (name: string): Promise<Server> => {
    const port = await findFreePort();
    const argv = ['bun', '--no-env-file', join(REPOSITORY_ROOT, 'tools/bench/peers/minimal-edge.ts'), String(port)];
    const running = await startProcess([...argv, redis.url, system.client.url], port, name, {
      JWT_PUBLIC_KEY: stack.keys.publicKey,
    });
    return { name, ...running };
  };
  // Started as the bench starts every service (bench-stack.ts), pages answered at the edge.
  const gateway = async (name: string, root: string): Promise<Server> => {
    const running = await startService(join(root, 'gateway/server.ts'), {
      ...serviceEnv(stack, { CACHE_ENABLED: 'true', REDIS_URL: redis.url, EDGE_CACHE_ENABLED: 'true' }),
      AUTH_SERVICE_URL: system.client.url,
      USER_SERVICE_URL: system.client.url,
      CLIENT_SERVICE_URL: system.client.url,
    });
    return { name, url: running.url, stop: () => running.stop() };
  };
  const pairs: [Server, Server][] = [];
  const ours = await gateway('gateway', REPOSITORY_ROOT);
  servers.push(ours);
  if (flags.against) {
    const theirs = await gateway(`gateway of ${flags.against}`, flags.against);
    servers.push(theirs);
    pairs.push([ours, theirs]);
  } else {
    const minimal = await minimalEdge('minimal edge');
    const control = await minimalEdge('a second minimal edge (control)');
    servers.push(minimal, control);
    pairs.push([ours, minimal], [control, minimal]);
  }

  const headers = { authorization: `Bearer ${tokenFor(stack)}` };
  /** Requests served in `duration` seconds; any error fails the run (a refusal is cheaper than a page). */
  const load = (server: Pick<Server, 'name' | 'url'>, duration: number) =>
    new Promise<number>((resolve, reject) =>
      autocannon({ url: `${server.url}${LIST_PATH}`, headers, connections: CONNECTIONS, duration }, (error, result) => {
        if (error) reject(error);
        else if (result.non2xx || result.errors)
          reject(new Error(`${server.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`));
        else resolve(result.requests.total);
      }),
    );
  // Fills the worker's cache and the session standing every edge reads, then warms each server.
  await onLoadCore(() => load({ name: 'warm-up', url: system.gateway.url }, 2));
  for (const server of servers) await onLoadCore(() => load(server, 3));

  const shares = pairs.map(() => [] as number[]);
  for (let round = 1; round <= rounds; round++) {
    for (const [index, [first, second]] of pairs.entries()) {
      const [firstServed, secondServed] = await onLoadCore(() =>
        Promise.all([load(first, seconds), load(second, seconds)]),
      );
      shares[index]?.push(firstServed / secondServed);
      console.log(`round ${round}: ${first.name} ${firstServed} requests, ${second.name} ${secondServed}`);
    }
  }
  for (const [index, [first, second]] of pairs.entries()) {
    const share = shares[index] as number[];
    console.log(
      `${first.name} / ${second.name}, ${rounds} rounds of ${seconds} s, both loaded at once: median ` +
        `${median(share).toFixed(3)} (${share.map((value) => value.toFixed(2)).join(' · ')})`,
    );
  }
} finally {
  await Promise.allSettled(servers.map((server) => server.stop()));
  await stopAll(system.all);
  await redis.stop();
  await stack.close();
}
