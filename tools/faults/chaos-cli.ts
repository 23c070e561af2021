// `bun run chaos [--hold 10] [--rounds 3] [--only proxy-blackhole]`: the fault suite as a longer soak.
// Every fault of faults.ts, one at a time, each held longer than in `bun test` and repeated; prints
// the README's fault table and exits 1 if any fault broke a promise (a 500, a dropped connection, a
// lost write, no recovery, a leaked connection).
import { parseArgs } from 'node:util';
import { FAULT_TABLE_HEADER, faultProblems, faultTableRow } from './fault-report.ts';
import { startFaultStack } from './fault-stack.ts';
import { FAULTS } from './faults.ts';
import { type FaultReport, runFault } from './run-fault.ts';

const { values } = parseArgs({
  options: {
    hold: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const holdMs = Number(values.hold) * 1000;
const rounds = Number(values.rounds);
const chosen = FAULTS.filter((fault) => !values.only || values.only.split(',').includes(fault.id));
const log = (line: string) => console.log(`[chaos] ${line}`);

const stack = await startFaultStack(log);
const reports: FaultReport[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const fault of chosen) {
      log(`round ${round}: ${fault.title}, held ${holdMs / 1000} s`);
      const report = await runFault(stack, fault, { holdMs, recoveryLimitMs: 30_000 });
      reports.push(report);
      log(`${JSON.stringify(report)}`);
    }
  }
} finally {
  await stack.close();
}
console.log(`\n${FAULT_TABLE_HEADER}`);
for (const report of reports) console.log(faultTableRow(report));
const problems = reports.flatMap((report) => faultProblems(report).map((problem) => `${report.fault}: ${problem}`));
for (const problem of problems) log(`FAIL ${problem}`);
log(
  problems.length
    ? `${problems.length} broken promise(s)`
    : 'every fault: no 500, nothing dropped, nothing lost, recovered',
);
process.exit(problems.length ? 1 : 0);
