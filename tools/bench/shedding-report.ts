// Scenario 8's rows and outcome checks, shared by run-bench.ts and run-shedding.ts.
import { ANSWER_WITHIN_MS, RAMP_SECONDS, type SheddingLoad, type SheddingResult } from './shedding.ts';

/** What must hold whatever the machine's speed: every answer in time and either a 200 or a 503 with Retry-After, nothing lost, the pool respected. */
export function sheddingChecks(result: SheddingResult, poolSize: number): { what: string; ok: boolean }[] {
  const { crowd } = result;
  const other = Object.entries(crowd.byStatus).filter(([status]) => status !== '200' && status !== '503');
  return [
    {
      what: `${crowd.connections} clients: every answer within ${ANSWER_WITHIN_MS} ms (slowest ${crowd.latencyMs.max} ms)`,
      ok: crowd.slowerThanBound === 0,
    },
    {
      what: `${crowd.connections} clients: only 200s and 503s with Retry-After (${crowd.overloadedWithRetryAfter}/${crowd.overloaded} 503s had it; other: ${other.map(([s, n]) => `${s}: ${n}`).join(', ') || 'none'})`,
      ok: other.length === 0 && crowd.overloadedWithRetryAfter === crowd.overloaded,
    },
    {
      what: `${crowd.connections} clients: no timeouts or broken connections (${crowd.timeouts} and ${crowd.broken})`,
      ok: crowd.timeouts === 0 && crowd.broken === 0,
    },
    {
      what: `${crowd.connections} clients: server connections within the pool (${crowd.peakServerConnections} <= ${poolSize})`,
      ok: crowd.peakServerConnections <= poolSize,
    },
  ];
}

const row = (name: string, load: SheddingLoad) =>
  `| ${name} | ${load.okPerSecond} | ${load.latencyMs.p50} | ${load.latencyMs.p99} | ${load.latencyMs.max} (${load.latencyMs.slowest200} / ${load.latencyMs.slowest503}) | ${Math.round(load.overloadedShare * 1000) / 10} % | ${load.timeouts} / ${load.broken} | ${load.peakServerConnections} | ${load.cpu.gateway} / ${load.cpu.worker} / ${load.cpu.loadGenerator} |`;

export function sheddingRows(result: SheddingResult): string[] {
  return [
    '',
    '| scenario 8 (database path, gateway) | 200s/s | p50 ms | p99 ms | max ms (200 / 503) | 503 share | timeouts / broken | peak PG conns | CPU: gateway / worker / load generator |',
    '|---|---|---|---|---|---|---|---|---|',
    row('64 clients', result.baseline),
    row(`${result.crowd.connections.toLocaleString()} clients, waiting Retry-After`, result.crowd),
    ...(result.impatientCrowd
      ? [
          row(
            `${result.impatientCrowd.connections.toLocaleString()} clients, ignoring Retry-After`,
            result.impatientCrowd,
          ),
        ]
      : []),
    '',
    `measured from ${RAMP_SECONDS} s after the clients start; answers to requests sent before (autocannon still opening its connections, its clock running): ${result.crowd.ramp.answers.toLocaleString()}, the slowest ${result.crowd.ramp.slowest} ms`,
    `Retry-After told the ${result.crowd.connections.toLocaleString()} waiting: mean ${result.crowd.retryAfterSeconds.mean} s, at most ${result.crowd.retryAfterSeconds.max} s (UPSTREAM_RETRY_AFTER_MAX_SECONDS ${result.pool.retryAfterMaxSeconds}; queue ${result.pool.queueLimitPerReplica}, in flight ${result.pool.maxInFlightPerReplica})`,
    `throughput ${result.crowd.connections.toLocaleString()} (waiting Retry-After) vs 64 clients: ${result.ratio} (target 0.9)${result.impatientRatio === undefined ? '' : `; ignoring Retry-After: ${result.impatientRatio}`}; gateway memory: ${result.gatewayMemoryMb.afterBaseline} MB after 64 clients, peak ${result.gatewayMemoryMb.peak} MB; open files: ${result.openFiles.soft} (hard ${result.openFiles.hard})`,
  ];
}
