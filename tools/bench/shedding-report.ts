// Scenario 8's rows and outcome checks, shared by run-bench.ts and run-shedding.ts.
import { ANSWER_WITHIN_MS, RAMP_SECONDS, type SheddingLoad, type SheddingResult } from './shedding.ts';

/**
 * What must hold whatever the machine's speed, in every round's crowd: every answer in time and either
 * a 200 or a 503 with Retry-After, nothing lost, the pool respected.
 */
export function sheddingChecks(result: SheddingResult, poolSize: number): { what: string; ok: boolean }[] {
  const crowds = result.rounds.crowd;
  const each = (of: (crowd: SheddingLoad) => string | number) => crowds.map(of).join(', ');
  const other = (crowd: SheddingLoad) =>
    Object.entries(crowd.byStatus).filter(([status]) => status !== '200' && status !== '503');
  const clients = `${result.crowd.connections} clients${crowds.length > 1 ? `, ${crowds.length} rounds` : ''}`;
  return [
    {
      what: `${clients}: every answer within ${ANSWER_WITHIN_MS} ms (slowest ${each((crowd) => crowd.latencyMs.max)} ms)`,
      ok: crowds.every((crowd) => crowd.slowerThanBound === 0),
    },
    {
      what: `${clients}: only 200s and 503s with Retry-After (${each((crowd) => `${crowd.overloadedWithRetryAfter}/${crowd.overloaded}`)} 503s had it; other: ${
        crowds
          .flatMap(other)
          .map(([s, n]) => `${s}: ${n}`)
          .join(', ') || 'none'
      })`,
      ok: crowds.every((crowd) => other(crowd).length === 0 && crowd.overloadedWithRetryAfter === crowd.overloaded),
    },
    {
      what: `${clients}: no timeouts or broken connections (${each((crowd) => crowd.timeouts)} and ${each((crowd) => crowd.broken)})`,
      ok: crowds.every((crowd) => crowd.timeouts === 0 && crowd.broken === 0),
    },
    {
      what: `${clients}: server connections within the pool (${each((crowd) => crowd.peakServerConnections)} <= ${poolSize})`,
      ok: crowds.every((crowd) => crowd.peakServerConnections <= poolSize),
    },
  ];
}

const row = (name: string, load: SheddingLoad) =>
  `| ${name} | ${load.okPerSecond} | ${load.latencyMs.p50} | ${load.latencyMs.p99} | ${load.latencyMs.max} (${load.latencyMs.slowest200} / ${load.latencyMs.slowest503}) | ${Math.round(load.overloadedShare * 1000) / 10} % | ${load.timeouts} / ${load.broken} | ${load.peakServerConnections} | ${load.cpu.gateway} / ${load.cpu.worker} / ${load.cpu.loadGenerator} |`;

export function sheddingRows(result: SheddingResult): string[] {
  const rounds = result.rounds.crowd.length;
  const median = rounds > 1 ? ` (median of ${rounds} rounds)` : '';
  return [
    '',
    '| scenario 8 (database path, gateway) | 200s/s | p50 ms | p99 ms | max ms (200 / 503) | 503 share | timeouts / broken | peak PG conns | CPU: gateway / worker / load generator |',
    '|---|---|---|---|---|---|---|---|---|',
    row(`64 clients${median}`, result.baseline),
    row(`${result.crowd.connections.toLocaleString()} clients, waiting Retry-After${median}`, result.crowd),
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
    `throughput ${result.crowd.connections.toLocaleString()} (waiting Retry-After) vs 64 clients: ${result.ratio.value}${rounds > 1 ? ` (rounds ${result.ratio.runs.join(', ')})` : ''} (target 0.9)${result.impatientRatio === undefined ? '' : `; ignoring Retry-After (after the rounds, each against the median 64): ${result.impatientRatio.value} (runs ${result.impatientRatio.runs.join(', ')})`}; gateway memory: ${result.gatewayMemoryMb.afterBaseline} MB after 64 clients, peak ${result.gatewayMemoryMb.peak} MB; open files: ${result.openFiles.soft} (hard ${result.openFiles.hard})`,
  ];
}
