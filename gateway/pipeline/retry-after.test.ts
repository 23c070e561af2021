// The Retry-After arithmetic alone, no servers: a refused client is told when its turn comes at the
// worker's pace, a crowd is spread over the seconds it needs, and the wait stays within 1..max.
import { describe, expect, test } from 'bun:test';
import { HOLD_TIME_WEIGHT, nextMeanHoldMs, type RefusalWaitInput, refusalWait } from './retry-after.ts';

/** 64 slots each held 100 ms: 640 answers a second, 0.15625 ms an answer. */
const BUSY: RefusalWaitInput = {
  nowMs: 10_000,
  backlog: 64 + 1024,
  slots: 64,
  meanHoldMs: 100,
  promisedUntilMs: 0,
  maxSeconds: 10,
};

/** Refuses `count` clients at the same instant, carrying the schedule from one to the next. */
function refuseAll(count: number, input: RefusalWaitInput): number[] {
  const told: number[] = [];
  let { promisedUntilMs } = input;
  for (let index = 0; index < count; index++) {
    const wait = refusalWait({ ...input, promisedUntilMs });
    told.push(wait.seconds);
    promisedUntilMs = wait.promisedUntilMs;
  }
  return told;
}

describe('refusalWait', () => {
  test('before any answer there is no pace: 1 s, and nothing is promised', () => {
    expect(refusalWait({ ...BUSY, meanHoldMs: undefined })).toEqual({ seconds: 1, promisedUntilMs: 0 });
  });

  test('the first refusal waits for the backlog to drain: 1,088 requests at 640/s is 1.7 s, told 2', () => {
    const wait = refusalWait(BUSY);
    expect(wait.seconds).toBe(2);
    // Its turn: after the 1,088 ahead of it, plus its own answer.
    expect(wait.promisedUntilMs).toBeCloseTo(10_000 + 1089 * (100 / 64), 6);
  });

  test('each refusal takes the next turn: a crowd is told 2, 3, 4 ... in proportion to the pace', () => {
    const told = refuseAll(4_000, BUSY);
    const howMany = (seconds: number) => told.filter((value) => value === seconds).length;
    // 640 answers a second: after the backlog's 1.7 s, 640 turns in each following second.
    expect(howMany(2)).toBe(Math.floor(2_000 / (100 / 64)) - 1088);
    for (const seconds of [3, 4, 5, 6, 7]) expect(howMany(seconds)).toBe(640);
    expect(told.every((value, index) => index === 0 || value >= (told[index - 1] ?? 0))).toBe(true);
    expect(Math.max(...told)).toBe(8); // the last of 4,000: (1,088 + 4,000) turns ahead, 7.95 s
  });

  test('past the maximum everyone is told the maximum and the schedule stops there', () => {
    const told = refuseAll(20_000, BUSY);
    expect(Math.max(...told)).toBe(10);
    expect(told.filter((value) => value === 10).length).toBeGreaterThan(10_000);
    const last = refusalWait({ ...BUSY, promisedUntilMs: 10_000 + 10_000 });
    expect(last).toEqual({ seconds: 10, promisedUntilMs: 20_000 });
  });

  test('a maximum of 1 is the old constant: always 1 s', () => {
    expect(new Set(refuseAll(5_000, { ...BUSY, maxSeconds: 1 }))).toEqual(new Set([1]));
  });

  test('a fast worker, or a small backlog, still says at least 1 s', () => {
    expect(refusalWait({ ...BUSY, meanHoldMs: 1, backlog: 2 }).seconds).toBe(1);
    expect(refusalWait({ ...BUSY, backlog: 0 }).seconds).toBe(1);
  });

  test('a promise in the past counts for nothing: the schedule restarts from the backlog', () => {
    expect(refusalWait({ ...BUSY, promisedUntilMs: 5_000 })).toEqual(refusalWait(BUSY));
  });

  test('a slow worker (one answer a second per slot) sends the crowd to the maximum at once', () => {
    expect(refusalWait({ ...BUSY, meanHoldMs: 64_000 }).seconds).toBe(10);
  });
});

describe('nextMeanHoldMs', () => {
  test('the first answer is the mean; later ones move it by their weight', () => {
    expect(nextMeanHoldMs(undefined, 80)).toBe(80);
    expect(nextMeanHoldMs(80, 112)).toBe(80 + 32 * HOLD_TIME_WEIGHT);
  });

  test('a change of pace is followed within about a hundred answers', () => {
    let mean = nextMeanHoldMs(undefined, 5);
    for (let answer = 0; answer < 100; answer++) mean = nextMeanHoldMs(mean, 100);
    expect(mean).toBeGreaterThan(95);
    expect(mean).toBeLessThan(100);
  });
});
