// The benchmark's scenarios. Each starts the services it needs, drives load, stops them, and
// returns numbers; run-bench.ts decides what passes. Scenario 5 (gateway cost and peers) is in
// gateway-cost.ts, scenario 6 (Prisma against plain pg on the client list) in list-query-cost.ts.
import { createSigner } from 'fast-jwt';
import { startRedis } from '../stack/redis.ts';
import { startTcpProxy } from '../testing/tcp-proxy.ts';
import { type BenchStack, DATABASE, type RunningService, startService } from './bench-stack.ts';
import { type LoadResult, runLoad } from './load.ts';
import { type PoolerQueueWatch, watchPoolerQueue } from './pooler-queue.ts';
import { ioStallMicros } from './pressure.ts';
import { processCpuSeconds } from './process-cpu.ts';
import { measureInRounds, medianRun, type RoundsOptions, ratioOfRounds } from './rounds.ts';
import { type WatchReport, watchSlowStatements } from './slow-statements.ts';
import { describeStuckBackends } from './stuck-backends.ts';

export interface ScenarioOptions {
  stack: BenchStack;
  seconds: number;
  log: (line: string) => void;
  /** Awaited before each round of a repeated comparison (machine-speed.ts samples there). */
  betweenMeasurements?: () => Promise<void>;
}

export const LIST_PATH = '/api/v1/clients?page=1&limit=20';

/** An access token for `user` (by default the stack's seeded one), whose session must be live. */
export function tokenFor(stack: BenchStack, user: { id: string; sessionId: string } = stack.user): string {
  return createSigner({
    key: stack.keys.privateKey,
    algorithm: 'EdDSA',
    iss: 'poolwise-auth',
    aud: 'poolwise-api',
    expiresIn: 3_600_000,
  })({ sub: user.id, role: 'USER', sid: user.sessionId });
}

/** `connections` clients asking `gateway` for the list page with the stack user's token, for `seconds`. */
export function loadList(stack: BenchStack, gateway: string, connections: number, seconds: number) {
  const target = {
    url: `${gateway}${LIST_PATH}`,
    headers: { authorization: `Bearer ${tokenFor(stack)}` },
    connections,
  };
  return runLoad([target], seconds, stack.serverConnections);
}

export function serviceEnv(stack: BenchStack, extra: Record<string, string>): Record<string, string> {
  return {
    JWT_PUBLIC_KEY: stack.keys.publicKey,
    JWT_PRIVATE_KEY: stack.keys.privateKey,
    DB_POOL_TIMEOUT: '5',
    CACHE_ENABLED: 'false',
    ...extra,
  };
}

export async function stopAll(services: RunningService[]) {
  await Promise.all(services.map((service) => service.stop()));
}

/**
 * Scenarios 1 and 2: three services, three replicas each, pool 2 per replica (18 client connections
 * in all), every replica serving its own read (client list, profile, me) with the cache off.
 */
export async function runIncident(options: ScenarioOptions, mode: 'session' | 'transaction'): Promise<LoadResult> {
  const { stack } = options;
  const url = mode === 'session' ? stack.sessionUrl : stack.transactionUrl;
  const replicas: { service: RunningService; path: string }[] = [];
  const routes = [
    ['workers/auth/server.ts', '/api/v1/auth/me'],
    ['workers/user/server.ts', '/api/v1/users/me'],
    ['workers/client/server.ts', LIST_PATH],
  ] as const;
  for (const [entry, path] of routes) {
    for (let i = 0; i < 3; i++) {
      const service = await startService(
        entry,
        serviceEnv(stack, {
          DATABASE_URL: url,
          DB_POOL_MODE: mode,
          DB_POOL_SIZE: '2',
          // Nine replicas share the servers' one core, so their event loops lag past the 1 s at
          // which a service sheds with 503 SERVICE_OVERLOADED (a quick run saw 8 such 503s in
          // scenario 2): that protection is off here, so every 503 is the database's answer.
          OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
          // Only warnings and errors, so a 5xx's log line (with its catalogue code) is still among
          // the last lines each replica keeps when the load ends (see the end of this function).
          LOG_LEVEL: 'warn',
        }),
      );
      replicas.push({ service, path });
    }
  }
  try {
    const token = tokenFor(stack);
    // A replica's first request loads Prisma's query compiler and compiles its route: seconds of
    // CPU with nine replicas on one core. Measured cold, a quick run's 4 s saw no answer at all (and a
    // full run's first seconds measured the warm-up), so each replica answers once first, whatever
    // it answers (in session mode some warm-ups already meet the pooler's limit).
    const began = performance.now();
    await Promise.all(
      replicas.map(({ service, path }) =>
        fetch(`${service.url}${path}`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(60_000),
        }).then((response) => response.arrayBuffer()),
      ),
    );
    options.log(
      `scenario ${mode === 'session' ? 1 : 2}: replicas warmed in ${Math.round(performance.now() - began)} ms`,
    );
    const slowStatements = mode === 'transaction' ? watchSlowStatements(stack.observe, DATABASE) : undefined;
    const poolerQueue = mode === 'transaction' ? await watchPoolerQueue(stack.transactionUrl) : undefined;
    const loadStarted = Date.now();
    const ioBefore = mode === 'transaction' ? ioStallMicros() : undefined;
    const result = await runLoad(
      replicas.map(({ service, path }) => ({
        url: `${service.url}${path}`,
        headers: { authorization: `Bearer ${token}` },
        connections: 8,
      })),
      options.seconds,
      stack.serverConnections,
    );
    const postgresSeen = (await slowStatements?.stop()) ?? { statements: [], runQueue: [], backend: () => [] };
    const queue = await poolerQueue?.stop();
    const ioAfter = ioStallMicros();
    if (ioBefore && ioAfter) {
      options.log(
        `scenario 2: the machine's tasks stalled on IO for ${Math.round((ioAfter.some - ioBefore.some) / 1000)} ms during the load (every task at once: ${Math.round((ioAfter.full - ioBefore.full) / 1000)} ms)`,
      );
    }
    // Always, errors or not: what a backend's wait for a CPU looks like when nothing went wrong.
    if (slowStatements) {
      options.log(
        `scenario 2: a PostgreSQL backend's longest wait for a CPU: ${postgresSeen.runQueue[0] ?? 'none seen'}`,
      );
    }
    // Through the transaction pooler every error is a finding (a rare 503 there is still unexplained).
    if (queue && result.errorCount > 0) {
      // The whole ring too: a server connection that failed may have been opened before the load.
      reportTransactionModeErrors(
        options.log,
        postgresSeen,
        queue,
        replicas,
        stack.serverLog(loadStarted),
        stack.serverLog(0),
      );
    }
    return result;
  } finally {
    await stopAll(replicas.map((replica) => replica.service));
  }
}

/**
 * What names scenario 2's errors: PostgreSQL's statements that ran long, PgBouncer's longest queue
 * wait, the servers' log during the load (PostgreSQL's refusals and slow statements, PgBouncer's
 * server logins and closes), and the replicas' own error lines (with the catalogue code).
 */
function reportTransactionModeErrors(
  log: (line: string) => void,
  postgresSeen: WatchReport,
  queue: Awaited<ReturnType<PoolerQueueWatch['stop']>>,
  replicas: { service: RunningService }[],
  serverLog: string[],
  wholeServerLog: string[],
) {
  log(`scenario 2: statements not idle for over 1 s meanwhile: ${postgresSeen.statements.length ? '' : 'none'}`);
  for (const line of postgresSeen.statements) log(`scenario 2:   ${line}`);
  log(`scenario 2: PostgreSQL backends' longest waits for a CPU while ready to run:`);
  for (const line of postgresSeen.runQueue) log(`scenario 2:   ${line}`);
  log(`scenario 2: longest wait in PgBouncer's queue: ${queue.longestWaitSeconds} s (${queue.atThatMoment})`);
  const count = (text: string) => serverLog.filter((line) => line.includes(text)).length;
  log(
    `scenario 2: during the load PostgreSQL authorised ${count('connection authorized')} connections and ended ${count('disconnection:')}; PgBouncer opened ${count('new connection to server')} server connections`,
  );
  // PostgreSQL's refusals, errors and slow statements first, then its connections (which backend, when,
  // how long its session lasted) and PgBouncer's server-side events (S-0x...).
  const alarming = serverLog.filter((line) =>
    /FATAL|ERROR|WARNING|duration:|still waiting|incomplete message|unexpected EOF|could not (receive|send)/.test(line),
  );
  const serverEvents = serverLog.filter(
    (line) =>
      /connection authorized|disconnection:/.test(line) || (line.startsWith('pgbouncer:') && / S-0x/.test(line)),
  );
  const notable = [...alarming, ...serverEvents.filter((line) => !alarming.includes(line))];
  for (const line of notable.slice(0, 100)) log(`scenario 2:   ${line.slice(0, 300)}`);
  if (notable.length > 100) log(`scenario 2:   ... and ${notable.length - 100} more`);
  for (const line of describeStuckBackends(wholeServerLog, postgresSeen.backend)) log(`scenario 2: ${line}`);
  for (const { service } of replicas) {
    const errorLines = service
      .output()
      .split('\n')
      .filter((line) => line.includes('"level":50'));
    for (const line of errorLines.slice(-3)) log(`scenario 2: ${line.slice(0, 1500)}`);
  }
}

/**
 * The whole system as deployed: gateway + three workers on the transaction pooler. `clientWorker`:
 * another entry for the client worker (scenario 6's bench-only plain-pg one), started the same way.
 */
export async function startSystem(
  stack: BenchStack,
  extra: Record<string, string>,
  clientWorker = 'workers/client/server.ts',
) {
  const env = serviceEnv(stack, {
    DATABASE_URL: stack.transactionUrl,
    DB_POOL_MODE: 'transaction',
    DB_POOL_SIZE: '5',
    ...extra,
  });
  const [auth, user, client] = await Promise.all([
    startService('workers/auth/server.ts', env),
    startService('workers/user/server.ts', env),
    startService(clientWorker, env, { portKey: 'CLIENT_PORT' }),
  ]);
  const gateway = await startService('gateway/server.ts', {
    ...env,
    AUTH_SERVICE_URL: auth.url,
    USER_SERVICE_URL: user.url,
    CLIENT_SERVICE_URL: client.url,
  });
  return { gateway, client, all: [gateway, auth, user, client] };
}

/**
 * Scenario 3: 64 and 1,000 concurrent clients on the list through the gateway, database path, in
 * rounds (rounds.ts); the ratio of served pages, 1,000 against 64, taken within each round.
 */
export async function runScale(options: ScenarioOptions & RoundsOptions) {
  const { stack } = options;
  const system = await startSystem(stack, {});
  try {
    // With the CPU the gateway and the worker used meanwhile (cores): what the refusals past the
    // admission bound cost, on the core the worker and PostgreSQL share with them.
    const measure = async (connections: number, seconds: number) => {
      // NaN (null in latest.json) for a process that died meanwhile: the checks report that, not this.
      const cpuOf = (service: RunningService) => {
        try {
          return processCpuSeconds(service.process.pid as number);
        } catch {
          return Number.NaN;
        }
      };
      const before = { gateway: cpuOf(system.gateway), worker: cpuOf(system.client) };
      const result = await loadList(stack, system.gateway.url, connections, seconds);
      const perSecond = (used: number) => Math.round((used / seconds) * 100) / 100;
      const cpu = {
        gateway: perSecond(cpuOf(system.gateway) - before.gateway),
        worker: perSecond(cpuOf(system.client) - before.worker),
      };
      return { ...result, cpu };
    };
    // A second first, not measured, as scenarios 6 and 8 do: a cold worker's first requests can find
    // its event loop still busy compiling and be told 503 SERVICE_OVERLOADED. No warm-up between
    // measurements: the one system is never idle between them.
    await measure(64, 1);
    const runs = await measureInRounds('scenario 3', ['at64', 'at1000'] as const, options, (target, seconds) =>
      measure(target === 'at64' ? 64 : 1000, seconds),
    );
    // Each side's median run, picked on its own (the two may come from different rounds).
    return {
      at64: medianRun(runs.at64, served),
      at1000: medianRun(runs.at1000, served),
      /** Each round's CPU (cores) of the gateway and the worker, 64 and 1,000 clients. */
      cpu: runs.at64.map((at64, round) => ({ at64: at64.cpu, at1000: runs.at1000[round]?.cpu })),
      /** Every round's 1,000-client run, each of which the outcome checks look at. */
      at1000Rounds: runs.at1000,
      ratio: ratioOfRounds(runs.at1000, runs.at64, served),
    };
  } finally {
    await stopAll(system.all);
  }
}

/**
 * Served pages per second only: past the gateway's admission bound the surplus is answered 503 at
 * once, and those quick refusals would otherwise count as throughput.
 */
export const served = (result: LoadResult) =>
  result.requestsPerSecond * (1 - (result.errors['503'] ?? 0) / Math.max(1, result.requests));

/** Scenario 4: the same list with Redis on; then with Redis stopped half-way through a run. */
export async function runCache(options: ScenarioOptions) {
  const { stack } = options;
  const redis = await startRedis();
  const system = await startSystem(stack, { CACHE_ENABLED: 'true', REDIS_URL: redis.url });
  try {
    const target = [
      {
        url: `${system.gateway.url}${LIST_PATH}`,
        headers: { authorization: `Bearer ${tokenFor(stack)}` },
        connections: 64,
      },
    ];
    await runLoad(target, 1, stack.serverConnections); // warm the entry
    const cached = await runLoad(target, options.seconds, stack.serverConnections);
    const redisStopped = await runLoad(target, options.seconds, stack.serverConnections, {
      atSecond: options.seconds / 2,
      action: () => redis.stop(),
    });
    return { cached, redisStopped };
  } finally {
    await stopAll(system.all);
    await redis.stop();
  }
}

/** Scenario 7's policies, by the name its results use and the gateway's UPSTREAM_BALANCING value. */
const UPSTREAM_BALANCING = { roundRobin: 'round-robin', leastOutstanding: 'least-outstanding' } as const;
type BalancingPolicy = keyof typeof UPSTREAM_BALANCING;
const POLICIES = Object.keys(UPSTREAM_BALANCING) as BalancingPolicy[];

/** How much farther away the slow replica of scenario 7 is (a busier node, another zone). */
const SLOW_REPLICA_LATENCY_MS = 20;

/**
 * Scenario 7: the balancing policy. Two client-worker replicas serving the worker-cached list, one of
 * them behind a TCP proxy that adds SLOW_REPLICA_LATENCY_MS each way; the same load through a gateway
 * balancing round robin and through one balancing by least outstanding requests, both in every round
 * (rounds.ts).
 */
export async function runBalancing(options: ScenarioOptions & RoundsOptions) {
  const { stack } = options;
  const redis = await startRedis();
  const env = serviceEnv(stack, {
    DATABASE_URL: stack.transactionUrl,
    DB_POOL_MODE: 'transaction',
    DB_POOL_SIZE: '2',
    CACHE_ENABLED: 'true',
    REDIS_URL: redis.url,
  });
  const [fast, slow] = await Promise.all([
    startService('workers/client/server.ts', env),
    startService('workers/client/server.ts', env),
  ]);
  const slowProxy = await startTcpProxy(Number(new URL(slow.url).port), 'http');
  slowProxy.setLatency(SLOW_REPLICA_LATENCY_MS);
  const gateways: Partial<Record<BalancingPolicy, RunningService>> = {};
  try {
    // One after the other, each kept as it starts, so a failed start still stops the other.
    for (const policy of POLICIES) {
      gateways[policy] = await startService('gateway/server.ts', {
        ...env,
        EDGE_CACHE_ENABLED: 'false',
        UPSTREAM_BALANCING: UPSTREAM_BALANCING[policy],
        CLIENT_SERVICE_URL: `${fast.url},${slowProxy.url}`,
      });
    }
    const measure = (policy: BalancingPolicy, connections: number, seconds: number) =>
      loadList(stack, gateways[policy]?.url as string, connections, seconds);
    for (const policy of POLICIES) await measure(policy, 8, 1); // warm up (a quick run has no other)
    // In a full run each measurement is warmed too (rounds.ts): each gateway idles while the other is measured.
    const runs = await measureInRounds('scenario 7', POLICIES, options, (policy, seconds) =>
      measure(policy, 64, seconds),
    );
    return {
      roundRobin: medianRun(runs.roundRobin),
      leastOutstanding: medianRun(runs.leastOutstanding),
      /** Every round's runs, each of which the outcome checks look at. */
      rounds: runs,
      ratio: ratioOfRounds(runs.leastOutstanding, runs.roundRobin, (run) => run.requestsPerSecond),
    };
  } finally {
    await stopAll([...Object.values(gateways), fast, slow]);
    await slowProxy.stop();
    await redis.stop();
  }
}
