import { describe, expect, test } from 'bun:test';
import { machineSpeedSampler, parseCoreList } from './machine-speed.ts';

describe('parseCoreList', () => {
  test('reads taskset lists as cpu-pinning.ts writes them', () => {
    expect([...parseCoreList('1')]).toEqual([1]);
    expect([...parseCoreList('1-3')]).toEqual([1, 2, 3]);
    expect([...parseCoreList('0,2-3')]).toEqual([0, 2, 3]);
  });

  test('refuses what is not a core list', () => {
    expect(() => parseCoreList('one')).toThrow('not a core list');
    expect(() => parseCoreList('1-x')).toThrow('not a core list');
  });
});

test('the sampler reports every sample relative to the first and how long it waited for quiet', async () => {
  // At most a second's wait a sample, however busy the machine running the tests is.
  const sampler = machineSpeedSampler(undefined, { settleLimitMs: 1_000 });
  expect(sampler.summary()).toBeUndefined();
  await sampler.sample();
  await sampler.sample();
  const summary = sampler.summary();
  expect(summary?.samples).toHaveLength(2);
  expect(summary?.samples[0]).toBe(1);
  // At least one 200 ms window was read (a timer may fire a little early), and a busy core did not
  // hold the sample past its limit by more than the window in progress.
  expect(summary?.longestSettleMs).toBeGreaterThanOrEqual(190);
  expect(summary?.longestSettleMs).toBeLessThan(1_500);
});
