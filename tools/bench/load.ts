// Drives HTTP load with autocannon (in this process; the services run in their own) while sampling
// PostgreSQL's server connections, and reduces both to the numbers a scenario reports.
import autocannon from 'autocannon';
import { onLoadCore } from './cpu-pinning.ts';

export interface LoadTarget {
  url: string;
  headers?: Record<string, string>;
  connections: number;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  /** Non-2xx answers by status code, plus transport failures. */
  errors: Record<string, number>;
  errorCount: number;
  timeouts: number;
  peakServerConnections: number;
  /** One point per second: successful (2xx) requests and the most server connections seen. */
  timeline: { second: number; requests: number; serverConnections: number }[];
}

type AutocannonResult = autocannon.Result;

/** One measurement, with this process (autocannon) on the load core when the bench pinned it. */
export function runLoad(
  targets: LoadTarget[],
  durationSeconds: number,
  sampleServerConnections: () => Promise<number>,
  during?: { atSecond: number; action: () => Promise<void> },
): Promise<LoadResult> {
  return onLoadCore(() => measure(targets, durationSeconds, sampleServerConnections, during));
}

async function measure(
  targets: LoadTarget[],
  durationSeconds: number,
  sampleServerConnections: () => Promise<number>,
  during?: { atSecond: number; action: () => Promise<void> },
): Promise<LoadResult> {
  const timeline: LoadResult['timeline'] = [];
  const latencies: number[] = [];
  let peak = 0;
  let completedThisSecond = 0;
  let connectionsThisSecond = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const n = await sampleServerConnections().catch(() => 0);
      peak = Math.max(peak, n);
      connectionsThisSecond = Math.max(connectionsThisSecond, n);
      await Bun.sleep(50);
    }
  })();
  const started = Date.now();
  const ticker = setInterval(() => {
    timeline.push({
      second: timeline.length + 1,
      requests: completedThisSecond,
      serverConnections: connectionsThisSecond,
    });
    completedThisSecond = 0;
    connectionsThisSecond = 0;
  }, 1000);
  const action = during ? Bun.sleep(during.atSecond * 1000).then(() => during.action()) : Promise.resolve();

  const results = await Promise.all(
    targets.map(
      (target) =>
        new Promise<AutocannonResult>((resolve, reject) => {
          const instance = autocannon(
            {
              url: target.url,
              headers: target.headers,
              connections: target.connections,
              duration: durationSeconds,
              timeout: 10,
            },
            (error, result) => (error ? reject(error) : resolve(result)),
          );
          instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
            if (status >= 200 && status < 300) completedThisSecond++;
            latencies.push(responseTime);
          });
        }),
    ),
  );
  await action;
  clearInterval(ticker);
  sampling = false;
  await sampler;

  const errors: Record<string, number> = {};
  let requests = 0;
  let timeouts = 0;
  for (const result of results) {
    requests += result.requests.total;
    timeouts += result.timeouts;
    if (result.errors - result.timeouts > 0)
      errors.transport = (errors.transport ?? 0) + result.errors - result.timeouts;
    for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
      if (!code.startsWith('2')) errors[code] = (errors[code] ?? 0) + (stats.count ?? 0);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies.length
      ? Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 10) / 10
      : 0;
  return {
    requests,
    requestsPerSecond: Math.round(results.reduce((sum, result) => sum + result.requests.average, 0)),
    latencyMs: { p50: percentile(0.5), p95: percentile(0.95), p99: percentile(0.99) },
    errors,
    errorCount: Object.values(errors).reduce((sum, n) => sum + n, 0) + timeouts,
    timeouts,
    peakServerConnections: peak,
    timeline: timeline.slice(0, Math.ceil(seconds)),
  };
}

/** Pages (or any unit of work) per second with 16 concurrent loops, after a 50-call warm-up. */
export async function pagesPerSecond(work: () => Promise<unknown>, seconds: number): Promise<number> {
  for (let i = 0; i < 50; i++) await work();
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < until) {
        await work();
        done++;
      }
    }),
  );
  return Math.round(done / seconds);
}

/**
 * One request as a patient client makes it: a 503 (a service shedding while the machine is busy, e.g.
 * just after it started) is waited out as its Retry-After says, at most 1 s, and asked again, up to
 * `attempts` times; the last answer is returned with how long it alone took, and how many 503s came first.
 */
export async function fetchPatiently(
  url: string,
  init: RequestInit,
  attempts = 5,
): Promise<{ status: number; body: string; ms: number; refused: number }> {
  for (let refused = 0; ; refused++) {
    const began = performance.now();
    const response = await fetch(url, init);
    const body = await response.text();
    const ms = performance.now() - began;
    if (response.status !== 503 || refused + 1 >= attempts) return { status: response.status, body, ms, refused };
    await Bun.sleep(Math.min(1, Number(response.headers.get('retry-after') ?? 1)) * 1000);
  }
}
