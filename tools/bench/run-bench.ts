// `bun run bench [--quick]`: reproduces the incident, shows the fix, and measures the system under
// load on the real stack. Writes .data/bench/latest.json and .data/bench/incident.svg, prints a
// summary, and exits 1 when a scenario's outcome (not its speed) is wrong.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { FREE_TIER, startBenchStack } from './bench-stack.ts';
import { renderIncidentChart } from './chart.ts';
import type { LoadResult } from './load.ts';
import { runBalancing, runCache, runGatewayCost, runIncident, runListQueryCost, runScale } from './scenarios.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' } } });
const quick = Boolean(flags.quick);
const settings = quick ? { seconds: 4, users: 200, clients: 20_000 } : { seconds: 15, users: 2_000, clients: 100_000 };
const log = (line: string) => console.log(`[bench] ${line}`);
const began = Date.now();

log(
  `${quick ? 'quick' : 'full'} run: ${settings.seconds} s per measurement, ${settings.clients.toLocaleString()} clients`,
);
const stack = await startBenchStack({ users: settings.users, clients: settings.clients, progress: log });
const checks: { what: string; ok: boolean }[] = [];
const check = (what: string, ok: boolean) => {
  checks.push({ what, ok });
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

let report: Record<string, unknown> = {};
try {
  const options = { stack, seconds: settings.seconds, log };
  log('scenario 1: the incident (3 services x 3 replicas x pool 2 on the session-mode pooler)');
  const session = await runIncident(options, 'session');
  check(`session mode reproduces the max-clients failure (${session.errorCount} errors)`, session.errorCount > 0);
  await stack.retireSessionPooler();
  log('scenario 2: the fix (same load through the transaction pooler)');
  const transaction = await runIncident(options, 'transaction');
  check(`transaction mode: zero errors (${transaction.errorCount})`, transaction.errorCount === 0);
  check(
    `transaction mode: server connections never above the pool (${transaction.peakServerConnections} <= ${FREE_TIER.poolSize})`,
    transaction.peakServerConnections <= FREE_TIER.poolSize,
  );
  log('scenario 3: scale (64, then 1,000 concurrent clients through the gateway, cache off)');
  const scale = await runScale(options);
  check(`1,000 clients: zero errors and timeouts (${scale.at1000.errorCount})`, scale.at1000.errorCount === 0);
  check(
    `1,000 clients: server connections flat (${scale.at1000.peakServerConnections} <= ${FREE_TIER.poolSize})`,
    scale.at1000.peakServerConnections <= FREE_TIER.poolSize,
  );
  log('scenario 4: cache (Redis on, then Redis stopped mid-run)');
  const cache = await runCache(options);
  check(`cached list: zero errors (${cache.cached.errorCount})`, cache.cached.errorCount === 0);
  check(`Redis stopped mid-run: zero errors (${cache.redisStopped.errorCount})`, cache.redisStopped.errorCount === 0);
  log('scenario 5: gateway cost (worker direct, minimal forwarder, gateway)');
  const gateway = await runGatewayCost(options);
  check(`gateway proxying answered without errors (${gateway.gateway.errorCount})`, gateway.gateway.errorCount === 0);
  log('scenario 6: the client-list page through Prisma against plain pg (same statement, pool 5, 16 loops)');
  const listCost = await runListQueryCost(options);
  check(
    `both list paths ran (${listCost.prisma} and ${listCost.plainPg} pages/s)`,
    listCost.prisma > 0 && listCost.plainPg > 0,
  );
  log('scenario 7: balancing (two client replicas, one 20 ms farther away; round robin, then least outstanding)');
  const balancing = await runBalancing(options);
  check(
    `both policies answered without errors (${balancing.roundRobin.errorCount} and ${balancing.leastOutstanding.errorCount})`,
    balancing.roundRobin.errorCount === 0 && balancing.leastOutstanding.errorCount === 0,
  );

  const row = (name: string, result: LoadResult) => ({
    scenario: name,
    rps: result.requestsPerSecond,
    p50: result.latencyMs.p50,
    p95: result.latencyMs.p95,
    p99: result.latencyMs.p99,
    errors: result.errorCount,
    errorKinds: result.errors,
    timeouts: result.timeouts,
    peakServerConnections: result.peakServerConnections,
  });
  const rows = [
    row('1 incident: session pooler', session),
    row('2 fix: transaction pooler', transaction),
    row('3 scale: 64 clients', scale.at64),
    row('3 scale: 1,000 clients', scale.at1000),
    row('4 cache: Redis on', cache.cached),
    row('4 cache: Redis stopped mid-run', cache.redisStopped),
    row('5 worker direct (cached list)', gateway.direct),
    row('5 minimal Bun.serve+fetch forwarder', gateway.minimal),
    row('5 our gateway forwarding (worker-cached list)', gateway.gateway),
    row('5 our gateway, list answered at the edge', gateway.edge),
    row('5 our gateway /health', gateway.gatewayHealth),
    row('7 balancing: round robin, one replica 20 ms away', balancing.roundRobin),
    row('7 balancing: least outstanding, same replicas', balancing.leastOutstanding),
  ];
  const listRows = [
    { scenario: '6 client-list page via Prisma (pages/s, in process)', rps: listCost.prisma },
    { scenario: '6 same statement via plain pg (pages/s, in process)', rps: listCost.plainPg },
  ];
  const ratios = {
    scale1000vs64: { value: scale.ratio, target: 0.9 },
    gatewayVsMinimalForwarder: { value: gateway.gatewayVsMinimal, target: 0.9 },
    minimalForwarderVsDirect: { value: gateway.minimalVsDirect, target: null },
    cachedListVsGatewayHealth: { value: gateway.cachedListVsHealth, target: 0.9 },
    prismaListVsPlainPg: { value: listCost.ratio, target: 0.9 },
    leastOutstandingVsRoundRobin: { value: balancing.ratio, target: null },
  };
  report = {
    when: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { cpus: cpus().length, model: cpus()[0]?.model, bun: Bun.version },
    settings,
    freeTier: FREE_TIER,
    rows,
    listRows,
    ratios,
    timelines: { session: session.timeline, transaction: transaction.timeline },
    checks,
    durationSeconds: Math.round((Date.now() - began) / 1000),
  };

  const dir = join(REPOSITORY_ROOT, '.data', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(report, null, 2));
  writeFileSync(
    join(dir, 'incident.svg'),
    renderIncidentChart(
      {
        requests: session.timeline.map((p) => p.requests),
        connections: session.timeline.map((p) => p.serverConnections),
      },
      {
        requests: transaction.timeline.map((p) => p.requests),
        connections: transaction.timeline.map((p) => p.serverConnections),
      },
      FREE_TIER.poolSize,
    ),
  );

  console.log('\n| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | timeouts | peak PG conns |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const kinds = r.errors
      ? ` (${Object.entries(r.errorKinds)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')})`
      : '';
    console.log(
      `| ${r.scenario} | ${r.rps} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors}${kinds} | ${r.timeouts} | ${r.peakServerConnections} |`,
    );
  }
  for (const r of listRows) console.log(`| ${r.scenario} | ${r.rps} | | | | | | |`);
  console.log('\n| ratio | value | target |');
  console.log('|---|---|---|');
  for (const [name, ratio] of Object.entries(ratios))
    console.log(`| ${name} | ${ratio.value} | ${ratio.target ?? '-'} |`);
  log(`wrote .data/bench/latest.json and .data/bench/incident.svg in ${report.durationSeconds} s`);
} finally {
  await stack.close();
}
const failed = checks.filter((c) => !c.ok);
log(failed.length ? `${failed.length} outcome check(s) failed` : 'all outcome checks passed');
process.exit(failed.length ? 1 : 0);
