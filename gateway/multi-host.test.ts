// Client-worker replicas on separate hosts, on one machine: four network namespaces cabled to one
// switch (tools/testing/network-namespaces.ts): "db" (PostgreSQL + transaction-mode PgBouncer), "c1"
// and "c2" (one client worker each) and "gw" (the gateway and the load). Under steady load through the
// gateway, one replica's host is cut off at the switch (its packets vanish: no reset, no refusal), then
// plugged back in. Proves: both replicas serve; while c1 is cut, GETs keep succeeding and the only
// failures allowed are requests in flight at the cut; the gateway ejects c1 within EJECT_WITHIN_MS;
// c1 rejoins without a restart; PostgreSQL never sees more server connections than PgBouncer's pool.
//
// Needs root (namespaces): without it this file fails, it never skips.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner } from 'fast-jwt';
import { testKeys } from '../tools/testing/helpers.ts';
import { type HostProcess, startInHost } from '../tools/testing/host-processes.ts';
import { buildHostNetwork, type HostNetwork } from '../tools/testing/network-namespaces.ts';
import type { LoadRecord, LoadResult } from '../tools/testing/steady-load.ts';

const HOSTS = ['db', 'c1', 'c2', 'gw'] as const;
type HostName = (typeof HOSTS)[number];

/** PgBouncer's server connections: the budget PostgreSQL must never see exceeded. */
const PGBOUNCER_POOL_SIZE = 3;
/** Each worker's own pool, together larger than the budget on purpose: PgBouncer has to share. */
const WORKER_POOL_SIZE = 4;
const CONCURRENCY = 8;
/** database-host.ts seeds this many clients for the owner: every 200 must carry the full page. */
const CLIENTS_SEEDED = 20;
const CLIENT_PORT = 3003;
const GATEWAY_PORT = 3000;
/** Probes run every 1 s with a 2 s timeout (gateway/replica-set.ts): a cut host is known dead within 3 s. */
const EJECT_WITHIN_MS = 4_000;
const REJOIN_WITHIN_MS = 5_000;
const WARM_MS = 3_000;
const HOLD_CUT_MS = 2_000;
const AFTER_REJOIN_MS = 2_000;
const SETUP_TIMEOUT_MS = 45_000;

/** The test's helper scripts stop when their input ends (also when this process dies). */
const END_OF_INPUT = { stopWith: 'end-of-input' } as const;

let network: HostNetwork<HostName> | undefined;
const processes: HostProcess[] = [];
let workDir: string | undefined;

async function teardown() {
  // Stopped in reverse: load and gateway before the workers, the database last.
  await Promise.allSettled(
    processes
      .splice(0)
      .reverse()
      .map((running) => running.stop()),
  );
  network?.destroy();
  network = undefined;
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

/** The gateway as seen from inside the gw host, through namespace-relay.ts's socket. */
let relaySocket = '';
async function gatewayGet(path: string): Promise<Response> {
  return fetch(`http://gateway${path}`, { unix: relaySocket, signal: AbortSignal.timeout(5_000) });
}

/** `name{labels} value` lines of one metric, labels parsed. */
async function readMetric(name: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const text = await (await gatewayGet('/metrics')).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => {
      const [, labelText = '', value = ''] = /^[^{]+\{(.*)\}\s+(\S+)$/.exec(line) ?? [];
      const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      return { labels, value: Number(value) };
    });
}

interface ReplicaView {
  up: boolean;
  inFlight: number;
  /** Attempts the replica answered 200, since the gateway started. */
  served: number;
  moved: number;
}

async function replicaViews(): Promise<Record<string, ReplicaView>> {
  const [up, inFlight, attempts] = await Promise.all([
    readMetric('gateway_upstream_replica_up'),
    readMetric('gateway_upstream_in_flight'),
    readMetric('gateway_upstream_attempts_total'),
  ]);
  const views: Record<string, ReplicaView> = {};
  for (const sample of up.filter((s) => s.labels.upstream === 'client')) {
    const replica = sample.labels.replica as string;
    const count = (outcome: string) =>
      attempts
        .filter((a) => a.labels.upstream === 'client' && a.labels.replica === replica && a.labels.outcome === outcome)
        .reduce((sum, a) => sum + a.value, 0);
    views[replica] = {
      up: sample.value === 1,
      inFlight: inFlight.find((s) => s.labels.replica === replica)?.value ?? 0,
      served: count('200'),
      moved: count('moved'),
    };
  }
  return views;
}

/** Each client replica in /status.json: in rotation or ejected, and whether it answered the gateway's /status call. */
async function replicaStates(): Promise<Record<string, { state: string; reachable: boolean }>> {
  const status = (await (await gatewayGet('/status.json')).json()) as {
    services: { service: string; instances: { address: string; state: string; reachable: boolean }[] }[];
  };
  const client = status.services.find((service) => service.service === 'client');
  return Object.fromEntries((client?.instances ?? []).map((instance) => [instance.address, instance]));
}

/** Polls `probe` every 100 ms until it returns true; the time it did, or undefined past the deadline. */
async function timeWhen(probe: () => Promise<boolean>, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return Date.now();
    await Bun.sleep(100);
  }
  return undefined;
}

/** An access token as the auth worker signs it, for the owner and session database-host.ts seeded. */
function accessToken(sub: string, sid: string): string {
  const sign = createSigner({
    key: testKeys.privateKey,
    algorithm: 'EdDSA',
    iss: 'poolwise-auth',
    aud: 'poolwise-api',
    expiresIn: 10 * 60_000,
  });
  return sign({ sub, sid, role: 'USER' });
}

/** What the scenario observed; the tests below judge it. */
interface Run {
  origins: Record<'c1' | 'c2', string>;
  before: Record<string, ReplicaView>;
  afterWarm: Record<string, ReplicaView>;
  atCut: Record<string, ReplicaView>;
  cutStartedAt: number;
  cutDoneAt: number;
  ejectedAt?: number;
  stateWhenEjected?: string;
  beforeRestore: Record<string, ReplicaView>;
  restoredAt: number;
  rejoinedAt?: number;
  stateWhenRejoined?: string;
  end: Record<string, ReplicaView>;
  c1ExitedDuringRun: boolean;
  load: LoadResult;
  loadStartedAt: number;
  loadStoppedAt: number;
  samples: { at: number; serverConnections: number }[];
  samplerFailure?: string;
}
let run: Run;

interface Started {
  hosts: HostNetwork<HostName>['hosts'];
  db: HostProcess;
  c1: HostProcess;
  origins: Run['origins'];
  ownerId: string;
  sessionId: string;
}

/** PostgreSQL + PgBouncer on db, a client worker on c1 and c2, the gateway on gw; resolves once both serve. */
async function startHosts(network: HostNetwork<HostName>, workDir: string): Promise<Started> {
  const { hosts } = network;
  const ownerId = crypto.randomUUID();
  const sessionId = crypto.randomUUID();
  const base = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    JWT_PUBLIC_KEY: testKeys.publicKey,
    RATE_LIMIT_MAX: '10000000',
    // Every process shares the machine's two cores: event-loop lag says nothing about one of them.
    OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
    // Every read goes to the database, so its connections are under test too.
    CACHE_ENABLED: 'false',
  };
  const db = startInHost(
    'db',
    network.runIn('db'),
    'tools/testing/database-host.ts',
    {
      LISTEN_ADDRESS: hosts.db.address,
      POOL_SIZE: String(PGBOUNCER_POOL_SIZE),
      OWNER_ID: ownerId,
      SESSION_ID: sessionId,
      CLIENTS: String(CLIENTS_SEEDED),
    },
    END_OF_INPUT,
  );
  processes.push(db);
  const ready = JSON.parse(await db.waitForLine((line) => line.includes('"ready"'), SETUP_TIMEOUT_MS));

  const origins = {
    c1: `http://${hosts.c1.address}:${CLIENT_PORT}`,
    c2: `http://${hosts.c2.address}:${CLIENT_PORT}`,
  };
  const [c1] = (['c1', 'c2'] as const).map((name) => {
    const worker = startInHost(name, network.runIn(name), 'workers/client/server.ts', {
      ...base,
      HOST: hosts[name].address,
      CLIENT_PORT: String(CLIENT_PORT),
      DATABASE_URL: ready.pooledUrl,
      DB_POOL_MODE: 'transaction',
      DB_POOL_SIZE: String(WORKER_POOL_SIZE),
      DB_POOL_TIMEOUT: '5',
    });
    processes.push(worker);
    return worker;
  });
  processes.push(
    startInHost('gateway', network.runIn('gw'), 'gateway/server.ts', {
      ...base,
      HOST: hosts.gw.address,
      GATEWAY_PORT: String(GATEWAY_PORT),
      CLIENT_SERVICE_URL: `${origins.c1},${origins.c2}`,
      EDGE_CACHE_ENABLED: 'false',
      UPSTREAM_TIMEOUT: '10',
    }),
  );
  relaySocket = join(workDir, 'gateway.sock');
  const target = `${hosts.gw.address}:${GATEWAY_PORT}`;
  const relay = startInHost(
    'relay',
    network.runIn('gw'),
    'tools/testing/namespace-relay.ts',
    { SOCKET: relaySocket, TARGET: target },
    END_OF_INPUT,
  );
  processes.push(relay);
  await relay.waitForLine((line) => line === 'listening', 10_000);
  // A replica is "in rotation" before its first probe, listening or not: wait until both answer too.
  const bothServe = await timeWhen(async () => {
    const states = await replicaStates();
    return [origins.c1, origins.c2].every((o) => states[o]?.reachable && states[o]?.state === 'in rotation');
  }, SETUP_TIMEOUT_MS);
  if (!bothServe) throw new Error('the client replicas never came into rotation');
  return { hosts, db, c1: c1 as HostProcess, origins, ownerId, sessionId };
}

/** Steady load; c1 cut after WARM_MS, plugged back in HOLD_CUT_MS after its ejection; everything timed. */
async function runScenario(network: HostNetwork<HostName>, started: Started, workDir: string): Promise<Run> {
  const { hosts, origins, db, c1 } = started;
  const before = await replicaViews();
  const outFile = join(workDir, 'load.json');
  const load = startInHost(
    'load',
    network.runIn('gw'),
    'tools/testing/steady-load.ts',
    {
      TARGET_URL: `http://${hosts.gw.address}:${GATEWAY_PORT}/api/v1/clients?limit=${CLIENTS_SEEDED}`,
      TOKEN: accessToken(started.ownerId, started.sessionId),
      CONCURRENCY: String(CONCURRENCY),
      EXPECT_ROWS: String(CLIENTS_SEEDED),
      OUT_FILE: outFile,
    },
    END_OF_INPUT,
  );
  processes.push(load);
  const loadStartedAt = Date.now();
  await Bun.sleep(WARM_MS);
  const afterWarm = await replicaViews();

  // Cut c1 at the switch.
  const atCut = await replicaViews();
  const cutStartedAt = Date.now();
  network.cut('c1');
  const cutDoneAt = Date.now();
  const ejectedAt = await timeWhen(async () => (await replicaViews())[origins.c1]?.up === false, 10_000);
  // /status.json reports the state as of the request's start (its per-replica detail then waits on c1).
  const stateWhenEjected = ejectedAt ? (await replicaStates())[origins.c1]?.state : undefined;
  await Bun.sleep(HOLD_CUT_MS);
  const beforeRestore = await replicaViews();

  // Plug it back in: same process, same address.
  const restoredAt = Date.now();
  network.restore('c1');
  const servedAtRestore = beforeRestore[origins.c1]?.served ?? 0;
  const rejoinedAt = await timeWhen(async () => {
    const view = (await replicaViews())[origins.c1];
    return view?.up === true && view.served > servedAtRestore;
  }, 15_000);
  const stateWhenRejoined = rejoinedAt ? (await replicaStates())[origins.c1]?.state : undefined;
  await Bun.sleep(AFTER_REJOIN_MS);
  const end = await replicaViews();

  await load.stop();
  const loadStoppedAt = Date.now();
  const samples = db.lines
    .map((line) => JSON.parse(line))
    .filter((line) => line.event === 'sample' && line.at >= loadStartedAt && line.at <= loadStoppedAt);
  return {
    origins,
    before,
    afterWarm,
    atCut,
    cutStartedAt,
    cutDoneAt,
    ejectedAt,
    stateWhenEjected,
    beforeRestore,
    restoredAt,
    rejoinedAt,
    stateWhenRejoined,
    end,
    c1ExitedDuringRun: c1.child.exitCode !== null || c1.child.signalCode !== null,
    load: JSON.parse(readFileSync(outFile, 'utf8')) as LoadResult,
    loadStartedAt,
    loadStoppedAt,
    samples,
    samplerFailure: db.lines.find((line) => line.includes('sampler-failed')),
  };
}

beforeAll(async () => {
  try {
    network = buildHostNetwork(HOSTS);
    workDir = mkdtempSync(join(tmpdir(), 'poolwise-multi-host-'));
    run = await runScenario(network, await startHosts(network, workDir), workDir);
    printFigures(run);
  } catch (error) {
    for (const running of processes) console.error(`--- ${running.label}\n${running.tail(15)}`);
    await teardown();
    throw error;
  }
}, 120_000);

afterAll(teardown, 30_000);

const failed = (record: LoadRecord) => record.status !== 200 || record.cause !== undefined;
const inFlightAtCut = (r: Run) => r.load.records.filter((x) => x.start <= r.cutDoneAt && x.end >= r.cutStartedAt);
const peak = (r: Run) => Math.max(0, ...r.samples.map((s) => s.serverConnections));

function printFigures(r: Run) {
  const failures = r.load.records.filter(failed);
  const causes: Record<string, number> = {};
  for (const { cause = 'bad status' } of failures) causes[cause] = (causes[cause] ?? 0) + 1;
  // Requests that overlapped the cut: those waiting on c1 sat there until it was ejected.
  const aroundCut = r.load.records.filter((x) => x.end >= r.cutStartedAt && x.start <= r.restoredAt);
  const slowest = Math.max(0, ...aroundCut.map((x) => x.end - x.start));
  const c1 = r.origins.c1;
  console.log(
    `multi-host: ${r.load.records.length} requests at concurrency ${r.load.concurrency}, ` +
      `${failures.length} failed ${JSON.stringify(causes)}, ${inFlightAtCut(r).length} in flight at the cut ` +
      `(${r.atCut[c1]?.inFlight ?? '?'} on c1 per the gateway), ` +
      `${(r.end[c1]?.moved ?? 0) - (r.atCut[c1]?.moved ?? 0)} moved off c1 to c2; ` +
      `ejected ${r.ejectedAt ? `${r.ejectedAt - r.cutStartedAt} ms` : 'never'} after the cut, ` +
      `rejoined ${r.rejoinedAt ? `${r.rejoinedAt - r.restoredAt} ms` : 'never'} after the link came back; ` +
      `slowest request while c1 was cut ${Math.round(slowest)} ms; ` +
      `peak PostgreSQL server connections ${peak(r)} (budget ${PGBOUNCER_POOL_SIZE}, ` +
      `${2 * WORKER_POOL_SIZE} worker pool slots, ${r.samples.length} samples)`,
  );
}

describe('client-worker replicas on separate hosts (network namespaces)', () => {
  test('both replicas serve traffic', () => {
    for (const origin of Object.values(run.origins)) {
      expect((run.afterWarm[origin]?.served ?? 0) - (run.before[origin]?.served ?? 0)).toBeGreaterThan(0);
    }
  });

  test('a cut replica is ejected in time and GETs keep succeeding; only requests in flight at the cut may fail', () => {
    expect(run.ejectedAt).toBeDefined();
    expect((run.ejectedAt as number) - run.cutStartedAt).toBeLessThanOrEqual(EJECT_WITHIN_MS);
    expect(run.stateWhenEjected).toBe('ejected');
    // Served throughout: after the ejection every request answered, from c2.
    const afterEjection = run.load.records.filter(
      (x) => x.start >= (run.ejectedAt as number) && x.end <= run.restoredAt,
    );
    expect(afterEjection.length).toBeGreaterThan(0);
    expect(afterEjection.filter(failed)).toEqual([]);
    const c2 = run.origins.c2;
    expect((run.beforeRestore[c2]?.served ?? 0) - (run.atCut[c2]?.served ?? 0)).toBeGreaterThan(0);
    // Every failure is accounted for: a request that was in flight at the instant of the cut.
    const allowed = new Set(inFlightAtCut(run));
    const failures = run.load.records.filter(failed);
    expect(failures.filter((x) => !allowed.has(x))).toEqual([]);
    expect(failures.length).toBeLessThanOrEqual(allowed.size);
    // Nothing hung: every request ended with an answer within the gateway's own timeout.
    expect(run.load.records.filter((x) => x.cause === 'unfinished' || x.cause === 'client-timeout')).toEqual([]);
  });

  test('the replica rejoins without a restart once its link is back, and takes traffic again', () => {
    expect(run.c1ExitedDuringRun).toBe(false);
    expect(run.rejoinedAt).toBeDefined();
    expect((run.rejoinedAt as number) - run.restoredAt).toBeLessThanOrEqual(REJOIN_WITHIN_MS);
    expect(run.stateWhenRejoined).toBe('in rotation');
    const c1 = run.origins.c1;
    expect((run.end[c1]?.served ?? 0) - (run.beforeRestore[c1]?.served ?? 0)).toBeGreaterThan(0);
    expect(run.load.records.filter((x) => x.start >= (run.rejoinedAt as number)).filter(failed)).toEqual([]);
  });

  test("PostgreSQL's server connections never exceed PgBouncer's pool", () => {
    expect(run.samplerFailure).toBeUndefined();
    // Sampled all along (every 200 ms): a sampler that stopped early would prove nothing.
    const expected = (run.loadStoppedAt - run.loadStartedAt) / 200;
    expect(run.samples.length).toBeGreaterThan(expected * 0.6);
    expect(peak(run)).toBeGreaterThan(0);
    expect(peak(run)).toBeLessThanOrEqual(PGBOUNCER_POOL_SIZE);
  });
});
