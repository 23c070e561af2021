// The back-off policy on its own, with a clock the test moves: the cap, the reset, abandoned checks
// and which addresses count as one. (login-backoff.test.ts shows it through the gateway.)
import { describe, expect, test } from 'bun:test';
import { LoginBackoff, loginPairKey } from './login-backoff.ts';

function backoffWithClock(failuresBeforeDelay: number, maxDelaySeconds: number) {
  let now = 1_000_000;
  const backoff = new LoginBackoff({ failuresBeforeDelay, maxDelaySeconds, now: () => now });
  return { backoff, advance: (ms: number) => (now += ms) };
}

/** Fails once (waiting out any delay first) and returns the Retry-After the next attempt gets, or 0. */
function failOnce(backoff: LoginBackoff, key: string, advance: (ms: number) => void): number {
  const refused = backoff.admit(key);
  if (!refused.admitted) {
    advance(refused.retryAfterSeconds * 1000);
    return failOnce(backoff, key, advance);
  }
  const next = backoff.admit(key);
  if (next.admitted) {
    next.abandoned(); // only looking
    return 0;
  }
  return next.retryAfterSeconds;
}

describe('LoginBackoff', () => {
  test('free failures, then 1 s doubling up to the cap', () => {
    const { backoff, advance } = backoffWithClock(3, 60);
    const waits = Array.from({ length: 10 }, () => failOnce(backoff, 'pair', advance));
    expect(waits).toEqual([0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
  });

  test('a success resets the pair', () => {
    const { backoff, advance } = backoffWithClock(2, 60);
    failOnce(backoff, 'pair', advance);
    failOnce(backoff, 'pair', advance);
    advance(1000);
    const admitted = backoff.admit('pair');
    expect(admitted.admitted).toBe(true);
    if (admitted.admitted) admitted.succeeded();
    expect(failOnce(backoff, 'pair', advance)).toBe(0);
  });

  test('an abandoned check (the database failed) does not count', () => {
    const { backoff } = backoffWithClock(1, 60);
    for (let attempt = 0; attempt < 5; attempt++) {
      const admitted = backoff.admit('pair');
      expect(admitted.admitted).toBe(true);
      if (admitted.admitted) admitted.abandoned();
    }
  });

  test('a pair with no failure for a day starts from zero', () => {
    const { backoff, advance } = backoffWithClock(2, 900);
    for (let attempt = 0; attempt < 6; attempt++) failOnce(backoff, 'pair', advance);
    advance(24 * 60 * 60 * 1000 + 1);
    expect(failOnce(backoff, 'pair', advance)).toBe(0);
  });

  test('pairs: email case and spaces do not matter; one IPv6 /64 is one address; accounts are apart', () => {
    expect(loginPairKey(' Admin@Example.test ', '198.51.100.1')).toBe(
      loginPairKey('admin@example.test', '198.51.100.1'),
    );
    expect(loginPairKey('a@example.test', '2001:db8:1:2::1')).toBe(
      loginPairKey('a@example.test', '2001:db8:1:2:ff::9'),
    );
    expect(loginPairKey('a@example.test', '::ffff:198.51.100.1')).toBe(loginPairKey('a@example.test', '198.51.100.1'));
    expect(loginPairKey('a@example.test', '198.51.100.1')).not.toBe(loginPairKey('b@example.test', '198.51.100.1'));
    expect(loginPairKey('a@example.test', '198.51.100.1')).not.toContain('example');
  });
});
