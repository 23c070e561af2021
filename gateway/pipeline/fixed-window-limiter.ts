// A fixed-window request counter per key (a client address, or an account), for the gateway's
// rate-limit stage. Hand-written because @fastify/rate-limit lives inside Fastify's request
// lifecycle, which API traffic no longer enters (see pipeline/rate-limit.ts). Counters are per
// process, like @fastify/rate-limit's memory store.

export class FixedWindowLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private nextSweep = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one request; returns how long to wait when the key is over its limit. */
  take(key: string, now = Date.now()): { retryAfterSeconds: number } | undefined {
    if (now >= this.nextSweep) this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    if (window.count <= this.max) return undefined;
    return { retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)) };
  }

  /** Forgets finished windows, so many one-off keys cannot grow the map without bound. */
  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    this.nextSweep = now + this.windowMs;
  }
}
