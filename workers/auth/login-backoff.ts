// Failed logins, counted per (account, client address). After AUTH_LOGIN_FAILURES_BEFORE_DELAY
// failures the pair waits 1 s before its next attempt is checked, then 2 s, 4 s ... up to
// AUTH_LOGIN_MAX_DELAY; a success resets it. Attempts during the wait are refused unchecked (429 with
// Retry-After), even with the right password, or the wait would not slow guessing.
//
// Why per pair and not per account: a per-account limit is a lockout anyone can trigger, the admin's
// included, by typing the email with wrong passwords. Here a guesser slows only itself; the owner
// logging in from another address is never held up. There is deliberately no ceiling per account
// across addresses: any such ceiling is again a lockout, one that a guesser with enough addresses
// (one IPv6 /48 holds 65,536 /64 keys) trips at will. Distributed guessing is bounded instead by
// the gateway's per-address limit, this back-off per address, and argon2's cost per check.
//
// Counters live in this process's memory (Redis stays a cache): with several auth replicas each
// counts on its own, so a guesser spread across R replicas gets R times the free failures.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { addressLimitKey } from '../../shared/http/address-key.ts';
import { normaliseEmail } from '../../shared/repositories/user-repository.ts';

export interface LoginBackoffSettings {
  /** Failures a pair may have before it waits at all. */
  failuresBeforeDelay: number;
  /** The longest a pair waits between checked attempts, in seconds. */
  maxDelaySeconds: number;
  now?: () => number;
}

/** A pair with no failure for this long starts from zero again. */
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;
/** Bounds memory under a spray of accounts × addresses (about 100 bytes per pair). */
const MAX_TRACKED_PAIRS = 100_000;

interface PairState {
  failures: number;
  /** ms since epoch until which attempts are refused unchecked; 0 when not waiting. */
  waitUntil: number;
}

export type LoginAdmission =
  | { admitted: false; retryAfterSeconds: number }
  | {
      admitted: true;
      /** The password was right: the pair starts from zero. */
      succeeded(): void;
      /** The check never ran to a verdict (e.g. the database failed): this attempt does not count. */
      abandoned(): void;
    };

/** The key of one (account, address) pair. Hashed: the counters never hold an email address. */
export function loginPairKey(email: string, clientAddress: string): string {
  const account = createHash('sha256').update(normaliseEmail(email)).digest('base64url').slice(0, 22);
  return `${account}|${addressLimitKey(clientAddress)}`;
}

export class LoginBackoff {
  private readonly pairs: LRUCache<string, PairState>;
  private readonly now: () => number;

  constructor(private readonly settings: LoginBackoffSettings) {
    const now = settings.now ?? Date.now;
    this.now = now;
    this.pairs = new LRUCache({ max: MAX_TRACKED_PAIRS, ttl: FORGET_AFTER_MS, ttlResolution: 0, perf: { now } });
  }

  /**
   * Refuses an attempt while its pair waits; otherwise admits it counted as a failure already, so a
   * burst of concurrent guesses gets no more checks than the failures allowed. The caller reports
   * a success or an abandoned check; a wrong password needs no call.
   */
  admit(pairKey: string): LoginAdmission {
    const now = this.now();
    const state = this.pairs.get(pairKey) ?? { failures: 0, waitUntil: 0 };
    if (state.waitUntil > now) {
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((state.waitUntil - now) / 1000)) };
    }
    const before = { ...state };
    state.failures++;
    state.waitUntil = now + this.delayAfter(state.failures);
    this.pairs.set(pairKey, state); // also restarts the time until the pair is forgotten
    return {
      admitted: true,
      succeeded: () => {
        this.pairs.delete(pairKey);
      },
      abandoned: () => {
        const current = this.pairs.get(pairKey);
        if (current === state && state.failures === before.failures + 1) Object.assign(state, before);
      },
    };
  }

  /** 0 below the threshold, then 1 s doubling per further failure, capped. */
  private delayAfter(failures: number): number {
    const { failuresBeforeDelay, maxDelaySeconds } = this.settings;
    if (failures < failuresBeforeDelay) return 0;
    const doublings = Math.min(failures - failuresBeforeDelay, 30);
    return Math.min(maxDelaySeconds, 2 ** doublings) * 1000;
  }
}
