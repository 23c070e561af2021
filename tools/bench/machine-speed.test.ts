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

// Each sample may wait up to 5 s for a busy machine's cores to go quiet (SETTLE_LIMIT_MS).
test('the sampler reports every sample relative to the first and how long it waited for quiet', async () => {
  const sampler = machineSpeedSampler();
  expect(sampler.summary()).toBeUndefined();
  await sampler.sample();
  await sampler.sample();
  const summary = sampler.summary();
  expect(summary?.samples).toHaveLength(2);
  expect(summary?.samples[0]).toBe(1);
  expect(summary?.longestSettleMs).toBeGreaterThanOrEqual(200); // at least one quiet window was read
  expect(summary?.longestSettleMs).toBeLessThan(6_000); // and a busy core does not hold it for ever
}, 15_000);
