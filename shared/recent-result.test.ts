// reuseRecentResult on its own: shared runs, reused outcomes (failures too), and expiry.
import { describe, expect, test } from 'bun:test';
import { reuseRecentResult } from './recent-result.ts';

describe('reuseRecentResult', () => {
  test('concurrent callers share one run; later callers within the interval reuse its outcome', async () => {
    let now = 0;
    let runs = 0;
    const check = reuseRecentResult(
      async () => {
        runs++;
        await Bun.sleep(5);
        return runs;
      },
      1_000,
      () => now,
    );
    expect(await Promise.all([check(), check(), check()])).toEqual([1, 1, 1]);
    now = 999;
    expect(await check()).toBe(1);
    now = 1_000;
    expect(await check()).toBe(2);
    expect(runs).toBe(2);
  });

  test('a failure is reused for the interval too, then checked again', async () => {
    let now = 0;
    let healthy = false;
    const check = reuseRecentResult(
      async () => {
        if (!healthy) throw new Error('down');
        return 'up';
      },
      1_000,
      () => now,
    );
    await expect(check()).rejects.toThrow('down');
    healthy = true;
    await expect(check()).rejects.toThrow('down');
    now = 1_000;
    expect(await check()).toBe('up');
  });
});
