// Scenario 8: 10,000 concurrent clients on the database path (cache off) through the gateway. A
// worker serves about a thousand pages a second, so most of those clients cannot be served at once;
// the gateway's admission control (gateway/pipeline/admission.ts) must tell them so quickly. Measured
// against 64 clients on the same system: throughput of 200s, every answer's latency (the slowest
// included), 503s and whether each carried Retry-After, timeouts and broken connections, PostgreSQL's
// server connections, and the gateway's memory (peak resident set, from /proc).
//
// Two crowds of the same size. One behaves as HTTP asks: a client told 503 with Retry-After waits
// that long before its next request (what a browser app or SDK with a retry policy does); the issue's
// targets are measured on it. The other ignores Retry-After and asks again at once (a tight retry
// loop, autocannon's own behaviour): the worst case, reported next to it, where refusals themselves
// compete with the worker for CPU.
//
// It drives autocannon itself rather than through load.ts, because it needs what load.ts does not
// keep: the slowest answer, each 503's headers, and clients that wait when told to.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { configJsonSchema } from '../../shared/config-schema.ts';
import { type BenchStack, type RunningService, startService } from './bench-stack.ts';
import { onLoadCore } from './cpu-pinning.ts';
import { ensureOpenFiles, type OpenFilesLimit } from './open-files.ts';
import { processCpuSeconds } from './process-cpu.ts';
import { measureInRounds, medianRun, type RatioSummary, type RoundsOptions, ratioOfRounds } from './rounds.ts';
import { tokenFor } from './scenarios.ts';

const LIST_PATH = '/api/v1/clients?page=1&limit=20';
/** Every answer must arrive within this (the bound). */
export const ANSWER_WITHIN_MS = 2_000;
/**
 * The measured window starts this long after the clients do: until then autocannon is still building
 * its connections (10,000 of them take it about 2 s, its event loop held), so neither the rate nor the
 * latencies of that stretch are the server's.
 */
export const RAMP_SECONDS = 3;
/** Descriptors this process needs beyond one per connection (PostgreSQL, Redis, pipes, the runtime). */
const SPARE_DESCRIPTORS = 512;

export interface SheddingLoad {
  connections: number;
  /** 2xx answers per second over the run. */
  okPerSecond: number;
  answers: number;
  byStatus: Record<string, number>;
  /** 503s, and those of them that carried Retry-After. */
  overloaded: number;
  overloadedWithRetryAfter: number;
  /** Share of answers that were 503, 0..1. */
  overloadedShare: number;
  /** The Retry-After values those 503s carried, seconds. */
  retryAfterSeconds: { mean: number; max: number };
  latencyMs: { p50: number; p99: number; max: number; slowest200: number; slowest503: number };
  /** Answers slower than ANSWER_WITHIN_MS. */
  slowerThanBound: number;
  timeouts: number;
  /** Connection errors and resets (autocannon's errors that were not timeouts). */
  broken: number;
  /**
   * The answers to requests sent during the ramp (the first RAMP_SECONDS, not counted above): how many
   * and the slowest. autocannon builds all its clients in one loop that holds its event loop, and each
   * first request's clock starts inside that loop, so these times include the load generator's own
   * start-up; reported apart from the measured window.
   */
  ramp: { answers: number; slowest: number };
  peakServerConnections: number;
  /** CPU seconds per second of run (1 = one core busy): the gateway, the worker, this load generator. */
  cpu: { gateway: number; worker: number; loadGenerator: number };
}

export interface SheddingResult {
  /** 64 clients: the median run by 200s per second (baseline and crowd each picked on its own). */
  baseline: SheddingLoad;
  /** Clients that wait Retry-After after a 503. */
  crowd: SheddingLoad;
  /** Every round's measurements, in round order; the outcome checks look at each crowd. */
  rounds: { baseline: SheddingLoad[]; crowd: SheddingLoad[] };
  /**
   * The same number of clients asking again at once after a 503 (full runs only): the median of as
   * many measurements as there are rounds, taken after the rounds.
   */
  impatientCrowd?: SheddingLoad;
  /** crowd / baseline 200s per second, round by round; each impatient crowd against the median baseline. */
  ratio: RatioSummary;
  impatientRatio?: RatioSummary;
  /**
   * The gateway process's resident set: after the first 64-client run (before any crowd), its peak
   * (VmHWM) over all the runs, and after the last run.
   */
  gatewayMemoryMb: { afterBaseline: number; peak: number; afterLastRun: number };
  openFiles: OpenFilesLimit;
  pool: { perWorker: number } & typeof ADMISSION;
}

export interface SheddingOptions extends RoundsOptions {
  stack: BenchStack;
  seconds: number;
  connections: number;
  /** Also measure a crowd that ignores Retry-After. */
  impatient?: boolean;
  /** The gateway's admission settings; the defaults are the gateway's own (UPSTREAM_*). */
  admission?: Partial<typeof ADMISSION>;
}

/** The gateway's defaults (shared/config-schema.ts), unless the run says otherwise. */
const ADMISSION = {
  maxInFlightPerReplica: configJsonSchema.properties.UPSTREAM_MAX_IN_FLIGHT.default as number,
  queueLimitPerReplica: configJsonSchema.properties.UPSTREAM_QUEUE_LIMIT.default as number,
  queueTimeoutMs: configJsonSchema.properties.UPSTREAM_QUEUE_TIMEOUT_MS.default as number,
  retryAfterMaxSeconds: configJsonSchema.properties.UPSTREAM_RETRY_AFTER_MAX_SECONDS.default as number,
};
const POOL_PER_WORKER = 5;

export async function runShedding(options: SheddingOptions): Promise<SheddingResult> {
  const { stack, log } = options;
  const admission = { ...ADMISSION, ...options.admission };
  // Raised before anything starts: the gateway inherits this limit.
  const openFiles = ensureOpenFiles(options.connections + SPARE_DESCRIPTORS);
  const connections = Math.min(options.connections, openFiles.soft - SPARE_DESCRIPTORS);
  if (connections < options.connections) {
    log(
      `open files limited to ${openFiles.soft} (hard ${openFiles.hard}): ${connections} connections, not ${options.connections}`,
    );
  }
  const env = {
    JWT_PUBLIC_KEY: stack.keys.publicKey,
    JWT_PRIVATE_KEY: stack.keys.privateKey,
    DATABASE_URL: stack.transactionUrl,
    DB_POOL_MODE: 'transaction',
    DB_POOL_SIZE: String(POOL_PER_WORKER),
    DB_POOL_TIMEOUT: '5',
    CACHE_ENABLED: 'false',
  };
  const client = await startService('workers/client/server.ts', env);
  const services: RunningService[] = [client];
  try {
    const gateway = await startService('gateway/server.ts', {
      ...env,
      UPSTREAM_MAX_IN_FLIGHT: String(admission.maxInFlightPerReplica),
      UPSTREAM_QUEUE_LIMIT: String(admission.queueLimitPerReplica),
      UPSTREAM_QUEUE_TIMEOUT_MS: String(admission.queueTimeoutMs),
      UPSTREAM_RETRY_AFTER_MAX_SECONDS: String(admission.retryAfterMaxSeconds),
      // Only the client list is measured; the other workers' addresses point at it so their probes answer.
      AUTH_SERVICE_URL: client.url,
      USER_SERVICE_URL: client.url,
      CLIENT_SERVICE_URL: client.url,
    });
    services.push(gateway);
    const target = { url: `${gateway.url}${LIST_PATH}`, headers: { authorization: `Bearer ${tokenFor(stack)}` } };
    const processes = { gateway, worker: client };
    const run = (clients: number, seconds: number, honorRetryAfter = true) =>
      measure({ target, connections: clients, seconds, stack, processes, honorRetryAfter });
    await run(64, 1); // warm up the worker, the pool and the gateway's connections
    // No warm-up between measurements: the one system is never idle between them.
    let afterBaseline: number | undefined;
    const rounds = await measureInRounds(
      'scenario 8',
      ['baseline', 'crowd'] as const,
      options,
      async (target, seconds) => {
        const load = await run(target === 'baseline' ? 64 : connections, seconds);
        if (target === 'baseline') afterBaseline ??= residentMb(gateway, 'VmRSS');
        return load;
      },
    );
    const okPerSecond = (load: SheddingLoad) => load.okPerSecond;
    const baseline = medianRun(rounds.baseline, okPerSecond);
    // After the rounds, not in them: a crowd that ignores Retry-After leaves the gateway's schedule of
    // turns (retry-after.ts) told far ahead, which the patient crowd measured next would inherit. Taken
    // as many times as the rounds all the same: measured once a run, it moved ±9 % between the full
    // runs of 2026-11-29's afternoon, while every ratio taken in rounds held within ±4.5 %.
    const impatientRuns: SheddingLoad[] = [];
    for (let i = 0; options.impatient && i < options.rounds; i++) {
      impatientRuns.push(await run(connections, options.seconds, false));
    }
    const impatient = impatientRuns.length > 0;
    return {
      baseline,
      crowd: medianRun(rounds.crowd, okPerSecond),
      rounds,
      impatientCrowd: impatient ? medianRun(impatientRuns, okPerSecond) : undefined,
      ratio: ratioOfRounds(rounds.crowd, rounds.baseline, okPerSecond),
      impatientRatio: impatient
        ? ratioOfRounds(
            impatientRuns,
            impatientRuns.map(() => baseline),
            okPerSecond,
          )
        : undefined,
      gatewayMemoryMb: {
        afterBaseline: afterBaseline ?? 0,
        peak: residentMb(gateway, 'VmHWM'),
        afterLastRun: residentMb(gateway, 'VmRSS'),
      },
      openFiles,
      pool: { perWorker: POOL_PER_WORKER, ...admission },
    };
  } finally {
    await Promise.all(services.map((service) => service.stop()));
  }
}

/** CPU seconds a service's process has used so far (user + system). */
const cpuSeconds = (service: RunningService) => processCpuSeconds(service.process.pid as number);

/** A process's resident memory in MB, from /proc/<pid>/status (VmRSS now, VmHWM its peak). */
function residentMb(service: RunningService, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${service.process.pid}/status`, 'utf8');
  const kb = Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** One measurement, with autocannon on the load core when the bench pinned cores (cpu-pinning.ts). */
function measure(run: Measurement): Promise<SheddingLoad> {
  return onLoadCore(() => measureHere(run));
}

interface Measurement {
  target: { url: string; headers: Record<string, string> };
  connections: number;
  seconds: number;
  stack: BenchStack;
  processes: { gateway: RunningService; worker: RunningService };
  honorRetryAfter: boolean;
}

/** autocannon's client, as far as this file uses it: its parser's events and its next-request call. */
type AutocannonClient = NodeJS.EventEmitter & {
  _doRequest: () => void;
  destroyed?: boolean;
  /** Its request timeout (ms), and the timer autocannon re-arms with it on each request. */
  timeout: number;
  timeoutTicker: { reschedule: (ms: number) => void };
};

async function measureHere({
  target,
  connections,
  seconds,
  stack,
  processes,
  honorRetryAfter,
}: Measurement): Promise<SheddingLoad> {
  const cpuBefore = {
    gateway: cpuSeconds(processes.gateway),
    worker: cpuSeconds(processes.worker),
    loadGenerator: process.cpuUsage(),
  };
  let peakServerConnections = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakServerConnections = Math.max(peakServerConnections, await stack.serverConnections().catch(() => 0));
      await Bun.sleep(50);
    }
  })();
  const latencies: number[] = [];
  const byStatus: Record<string, number> = {};
  const slowest: Record<string, number> = {};
  let overloadedWithRetryAfter = 0;
  /** The Retry-After of each client's answer in progress (its headers come before its 'response'). */
  const retryAfterOf = new WeakMap<object, number>();
  let retryAfterTotal = 0;
  let retryAfterMax = 0;
  const started = performance.now();
  const windowStarts = started + RAMP_SECONDS * 1000;
  const ramp = { answers: 0, slowest: 0 };
  // CPU is counted over the measured window too.
  let cpuAtWindow = cpuBefore;
  const windowTimer = setTimeout(() => {
    cpuAtWindow = {
      gateway: cpuSeconds(processes.gateway),
      worker: cpuSeconds(processes.worker),
      loadGenerator: process.cpuUsage(),
    };
  }, RAMP_SECONDS * 1000);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        headers: target.headers,
        connections,
        duration: seconds + RAMP_SECONDS,
        timeout: 10,
        // Each answer's headers, to see that every 503 says when to come back; a patient client then
        // waits as long as the header says (whatever the value) before its next request (autocannon
        // asks for it right after the answer).
        setupClient: (raw) => {
          const client = raw as unknown as AutocannonClient;
          let waitMs = 0;
          client.on('headers', (head: { statusCode: number; headers: (string | Buffer)[] }) => {
            retryAfterOf.delete(client);
            if (head.statusCode !== 503) return;
            for (let index = 0; index < head.headers.length; index += 2) {
              if (String(head.headers[index]).toLowerCase() === 'retry-after') {
                const seconds = Number(String(head.headers[index + 1]));
                retryAfterOf.set(client, seconds);
                if (honorRetryAfter) waitMs = seconds * 1000;
                break;
              }
            }
          });
          if (!honorRetryAfter) return;
          const sendNext = client._doRequest.bind(client);
          client._doRequest = () => {
            if (waitMs <= 0) return sendNext();
            const wait = waitMs;
            waitMs = 0;
            // autocannon's request timeout runs from the last request sent; a client waiting as told
            // has nothing in flight, so the timeout starts again when it asks.
            client.timeoutTicker.reschedule(wait + client.timeout);
            setTimeout(() => {
              if (!client.destroyed) sendNext();
            }, wait);
          };
        },
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (client: unknown, status: number, _bytes: number, responseTime: number) => {
      if (performance.now() - responseTime < windowStarts) {
        ramp.answers++;
        ramp.slowest = Math.max(ramp.slowest, responseTime);
        return;
      }
      const retryAfter = retryAfterOf.get(client as object);
      if (status === 503 && retryAfter !== undefined) {
        overloadedWithRetryAfter++;
        retryAfterTotal += retryAfter;
        retryAfterMax = Math.max(retryAfterMax, retryAfter);
      }
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      slowest[status] = Math.max(slowest[status] ?? 0, responseTime);
      latencies.push(responseTime);
    });
  });
  clearTimeout(windowTimer);
  const elapsed = (performance.now() - windowStarts) / 1000;
  const ownCpu = process.cpuUsage(cpuAtWindow.loadGenerator);
  const perSecond = (seconds: number) => Math.round((seconds / elapsed) * 100) / 100;
  const cpu = {
    gateway: perSecond(cpuSeconds(processes.gateway) - cpuAtWindow.gateway),
    worker: perSecond(cpuSeconds(processes.worker) - cpuAtWindow.worker),
    loadGenerator: perSecond((ownCpu.user + ownCpu.system) / 1e6),
  };
  sampling = false;
  await sampler;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 10) / 10;
  const answers = latencies.length;
  const ok = Object.entries(byStatus).reduce((sum, [status, n]) => (status.startsWith('2') ? sum + n : sum), 0);
  const overloaded = byStatus['503'] ?? 0;
  return {
    connections,
    okPerSecond: Math.round(ok / Math.max(seconds, Math.min(elapsed, seconds + 1))),
    answers,
    byStatus,
    overloaded,
    overloadedWithRetryAfter,
    overloadedShare: answers ? Math.round((overloaded / answers) * 1000) / 1000 : 0,
    retryAfterSeconds: {
      mean: overloadedWithRetryAfter ? Math.round((retryAfterTotal / overloadedWithRetryAfter) * 100) / 100 : 0,
      max: retryAfterMax,
    },
    latencyMs: {
      p50: at(0.5),
      p99: at(0.99),
      max: Math.round((latencies.at(-1) ?? 0) * 10) / 10,
      slowest200: Math.round((slowest['200'] ?? 0) * 10) / 10,
      slowest503: Math.round((slowest['503'] ?? 0) * 10) / 10,
    },
    slowerThanBound: latencies.filter((ms) => ms > ANSWER_WITHIN_MS).length,
    timeouts: result.timeouts,
    broken: result.errors - result.timeouts,
    peakServerConnections,
    cpu,
    ramp: { answers: ramp.answers, slowest: Math.round(ramp.slowest * 10) / 10 },
  };
}
