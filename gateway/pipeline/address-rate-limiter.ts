// A fixed-window request counter per client address, for the gateway's rate-limit stage. Hand-written
// because @fastify/rate-limit lives inside Fastify's request lifecycle, which API traffic no longer
// enters (see pipeline/rate-limit.ts). Counters are per process, like @fastify/rate-limit's memory store.

export class AddressRateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private nextSweep = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one request; returns how long to wait when the address is over its limit. */
  take(address: string, now = Date.now()): { retryAfterSeconds: number } | undefined {
    if (now >= this.nextSweep) this.sweep(now);
    let window = this.windows.get(address);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(address, window);
    }
    window.count++;
    if (window.count <= this.max) return undefined;
    return { retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)) };
  }

  /** Forgets finished windows, so many one-off addresses cannot grow the map without bound. */
  private sweep(now: number): void {
    for (const [address, window] of this.windows) if (window.resetAt <= now) this.windows.delete(address);
    this.nextSweep = now + this.windowMs;
  }
}
