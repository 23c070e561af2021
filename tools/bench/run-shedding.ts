// `bun tools/bench/run-shedding.ts [--connections 10000] [--seconds 10] [--max-in-flight 64] [--queue 1024] [--queue-timeout 500] [--retry-after-max 10] [--rounds 1] [--no-pin] [--impatient]`:
// bench scenario 8 alone (10,000 concurrent clients on the database path through the gateway; see
// shedding.ts), on the bench's own stack, without the other scenarios; admission settings default to
// the gateway's (`--retry-after-max 1` is the constant 1 s of before). Prints the rows and writes
// .data/bench/shedding.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { FREE_TIER, startBenchStack } from './bench-stack.ts';
import { pinBenchProcess } from './cpu-pinning.ts';
import { runShedding } from './shedding.ts';
import { sheddingChecks, sheddingRows } from './shedding-report.ts';

const { values: flags } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    'max-in-flight': { type: 'string' },
    queue: { type: 'string' },
    'queue-timeout': { type: 'string' },
    'retry-after-max': { type: 'string' },
    'no-pin': { type: 'boolean' },
    impatient: { type: 'boolean' },
  },
});
const log = (line: string) => console.log(`[shedding] ${line}`);
const began = Date.now();
// As in run-bench.ts: the load generator on core 0, everything it starts on the others.
const cpuPlan = flags['no-pin'] ? undefined : pinBenchProcess();
log(cpuPlan ? `cores: load generator on ${cpuPlan.loadCores}, servers on ${cpuPlan.serverCores}` : 'cores: not pinned');
const stack = await startBenchStack({ users: 200, clients: 20_000, progress: log });
let failed = 0;
try {
  const result = await runShedding({
    stack,
    seconds: Number(flags.seconds),
    connections: Number(flags.connections),
    impatient: Boolean(flags.impatient),
    rounds: Number(flags.rounds),
    log,
    admission: {
      ...(flags['max-in-flight'] ? { maxInFlightPerReplica: Number(flags['max-in-flight']) } : {}),
      ...(flags.queue ? { queueLimitPerReplica: Number(flags.queue) } : {}),
      ...(flags['queue-timeout'] ? { queueTimeoutMs: Number(flags['queue-timeout']) } : {}),
      ...(flags['retry-after-max'] ? { retryAfterMaxSeconds: Number(flags['retry-after-max']) } : {}),
    },
  });
  for (const line of sheddingRows(result)) console.log(line);
  for (const check of sheddingChecks(result, FREE_TIER.poolSize)) {
    log(`${check.ok ? 'ok  ' : 'FAIL'} ${check.what}`);
    if (!check.ok) failed++;
  }
  const dir = join(REPOSITORY_ROOT, '.data', 'bench');
  mkdirSync(dir, { recursive: true });
  const report = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, bun: Bun.version },
    cores: cpuPlan ?? 'not pinned',
    result,
    durationSeconds: Math.round((Date.now() - began) / 1000),
  };
  writeFileSync(join(dir, 'shedding.json'), JSON.stringify(report, null, 2));
  log(`wrote .data/bench/shedding.json in ${report.durationSeconds} s`);
} finally {
  await stack.close();
}
process.exit(failed ? 1 : 0);
