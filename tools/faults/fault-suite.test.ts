// The fault suite (issue 12), in `bun test`: the stack of fault-stack.ts under steady creates and
// reads through the gateway, each fault of faults.ts injected once for 2 s and healed. For every
// fault: no 500, no connection dropped without an answer, every 503 with Retry-After, every answer
// within the stated bound, no acknowledged create lost, every unanswered create accepted when sent
// again with its Idempotency-Key and never applied twice, recovery on its own within 10 s, and no
// server connection left busy. `bun run chaos` runs the same faults longer and repeatedly.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { FAULT_TABLE_HEADER, faultProblems, faultTableRow } from './fault-report.ts';
import { type FaultStack, startFaultStack } from './fault-stack.ts';
import { FAULTS } from './faults.ts';
import { type FaultReport, runFault } from './run-fault.ts';

let stack: FaultStack;
const reports: FaultReport[] = [];
beforeAll(async () => {
  stack = await startFaultStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
  if (reports.length > 0) console.log(`\n${FAULT_TABLE_HEADER}\n${reports.map(faultTableRow).join('\n')}`);
});

describe('the stack under faults', () => {
  for (const fault of FAULTS) {
    test(fault.title, async () => {
      const report = await runFault(stack, fault, { holdMs: 2_000, recoveryLimitMs: 12_000 });
      reports.push(report);
      expect(faultProblems(report)).toEqual([]);
      // The load really ran through the fault: creates were acknowledged and checked.
      expect(report.acknowledged).toBeGreaterThan(10);
    }, 60_000);
  }

  test('the faults that cut the database off were felt (the suite can fail)', () => {
    const felt = (id: string) => reports.find((report) => report.fault === id)?.statuses['503'] ?? 0;
    expect(felt('pgbouncer-killed')).toBeGreaterThan(0);
    expect(felt('postgres-fast-restart')).toBeGreaterThan(0);
  });
});
