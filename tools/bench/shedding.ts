// Scenario 8: 10,000 concurrent clients on the database path (cache off) through the gateway. A
// worker serves about a thousand pages a second, so most of those clients cannot be served at once;
// the gateway's admission control (gateway/pipeline/admission.ts) must tell them so quickly. Measured
// against 64 clients on the same system: throughput of 200s, every answer's latency (the slowest
// included), 503s and whether each carried Retry-After, timeouts and broken connections, PostgreSQL's
// server connections, and the gateway's memory (peak resident set, from /proc).
//
// It drives autocannon itself rather than through load.ts, because it needs what load.ts does not
// keep: the slowest answer, and each 503's headers.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { createSigner } from 'fast-jwt';
import { type BenchStack, type RunningService, startService } from './bench-stack.ts';
import { ensureOpenFiles, type OpenFilesLimit } from './open-files.ts';

const LIST_PATH = '/api/v1/clients?page=1&limit=20';
/** Every answer must arrive within this (the bound). */
export const ANSWER_WITHIN_MS = 2_000;
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
  latencyMs: { p50: number; p99: number; max: number };
  /** Answers slower than ANSWER_WITHIN_MS. */
  slowerThanBound: number;
  timeouts: number;
  /** Connection errors and resets (autocannon's errors that were not timeouts). */
  broken: number;
  peakServerConnections: number;
}

export interface SheddingResult {
  baseline: SheddingLoad;
  crowd: SheddingLoad;
  /** crowd.okPerSecond / baseline.okPerSecond. */
  ratio: number;
  /** The gateway process's resident set: after the 64-client run, and its peak (VmHWM) after the crowd. */
  gatewayMemoryMb: { afterBaseline: number; peak: number; afterCrowd: number };
  openFiles: OpenFilesLimit;
  pool: { perWorker: number; maxInFlightPerReplica: number; queueLimitPerReplica: number; queueTimeoutMs: number };
}

export interface SheddingOptions {
  stack: BenchStack;
  seconds: number;
  connections: number;
  log: (line: string) => void;
}

const ADMISSION = { maxInFlightPerReplica: 64, queueLimitPerReplica: 64, queueTimeoutMs: 500 };
const POOL_PER_WORKER = 5;

export async function runShedding(options: SheddingOptions): Promise<SheddingResult> {
  const { stack, log } = options;
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
      UPSTREAM_MAX_IN_FLIGHT: String(ADMISSION.maxInFlightPerReplica),
      UPSTREAM_QUEUE_LIMIT: String(ADMISSION.queueLimitPerReplica),
      UPSTREAM_QUEUE_TIMEOUT_MS: String(ADMISSION.queueTimeoutMs),
      // Only the client list is measured; the other workers' addresses point at it so their probes answer.
      AUTH_SERVICE_URL: client.url,
      USER_SERVICE_URL: client.url,
      CLIENT_SERVICE_URL: client.url,
    });
    services.push(gateway);
    const target = { url: `${gateway.url}${LIST_PATH}`, headers: { authorization: `Bearer ${tokenFor(stack)}` } };
    await measure(target, 64, 1, stack); // warm up the worker, the pool and the gateway's connections
    const baseline = await measure(target, 64, options.seconds, stack);
    const afterBaseline = residentMb(gateway, 'VmRSS');
    const crowd = await measure(target, connections, options.seconds, stack);
    return {
      baseline,
      crowd,
      ratio: Math.round((crowd.okPerSecond / Math.max(1, baseline.okPerSecond)) * 100) / 100,
      gatewayMemoryMb: {
        afterBaseline,
        peak: residentMb(gateway, 'VmHWM'),
        afterCrowd: residentMb(gateway, 'VmRSS'),
      },
      openFiles,
      pool: { perWorker: POOL_PER_WORKER, ...ADMISSION },
    };
  } finally {
    await Promise.all(services.map((service) => service.stop()));
  }
}

function tokenFor(stack: BenchStack): string {
  return createSigner({
    key: stack.keys.privateKey,
    algorithm: 'EdDSA',
    iss: 'poolwise-auth',
    aud: 'poolwise-api',
    expiresIn: 3_600_000,
  })({ sub: stack.user.id, role: 'USER', sid: stack.user.sessionId });
}

/** A process's resident memory in MB, from /proc/<pid>/status (VmRSS now, VmHWM its peak). */
function residentMb(service: RunningService, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${service.process.pid}/status`, 'utf8');
  const kb = Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function measure(
  target: { url: string; headers: Record<string, string> },
  connections: number,
  seconds: number,
  stack: BenchStack,
): Promise<SheddingLoad> {
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
  let overloadedWithRetryAfter = 0;
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        headers: target.headers,
        connections,
        duration: seconds,
        timeout: 10,
        // Each answer's headers, to see that every 503 says when to come back.
        setupClient: (client) => {
          // autocannon's types list only 'response'; its client also emits the parser's 'headers'.
          (client as unknown as NodeJS.EventEmitter).on(
            'headers',
            (head: { statusCode: number; headers: (string | Buffer)[] }) => {
              if (head.statusCode !== 503) return;
              for (let index = 0; index < head.headers.length; index += 2) {
                if (String(head.headers[index]).toLowerCase() === 'retry-after') {
                  overloadedWithRetryAfter++;
                  break;
                }
              }
            },
          );
        },
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      latencies.push(responseTime);
    });
  });
  const elapsed = (performance.now() - started) / 1000;
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
    latencyMs: { p50: at(0.5), p99: at(0.99), max: Math.round((latencies.at(-1) ?? 0) * 10) / 10 },
    slowerThanBound: latencies.filter((ms) => ms > ANSWER_WITHIN_MS).length,
    timeouts: result.timeouts,
    broken: result.errors - result.timeouts,
    peakServerConnections,
  };
}
