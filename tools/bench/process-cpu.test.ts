import { expect, test } from 'bun:test';
import { processCpuSeconds, processSchedule, processState } from './process-cpu.ts';

test('reads a live process from /proc, and nothing for one that is gone', async () => {
  const sleeper = Bun.spawn(['sleep', '5']);
  try {
    // Until it sleeps: on a busy machine it can still be starting (R, or D while its binary pages in).
    for (let waited = 0; processState(sleeper.pid)?.state !== 'S' && waited < 3_000; waited += 50) await Bun.sleep(50);
    expect(processState(sleeper.pid)).toEqual({
      state: 'S',
      sleepingIn: expect.any(String),
      majorFaults: expect.any(Number),
    });
    expect(processSchedule(sleeper.pid)?.runningNs).toBeGreaterThan(0);
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(0);
  } finally {
    sleeper.kill();
    await sleeper.exited;
  }
  expect(processState(sleeper.pid)).toBeUndefined();
  expect(processSchedule(sleeper.pid)).toBeUndefined();
});
