// The replicas of one worker, as the gateway sees them: where they are, which are ejected, how many
// requests each has in flight, and which one takes the next request.
//
// Written by hand: @fastify/reply-from and http-proxy balance nothing and do not run on Bun's fetch
// (FACTS.md), and a general load balancer library would bring its own HTTP client. The policy is
// least outstanding requests, ties broken round robin: on a worker whose one JS thread is the
// bottleneck, a replica stuck on a slow query keeps its queue short instead of getting every Nth
// request regardless (see the README for the measurement).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A replica that refused a connection or failed readiness sits out this long, doubling per failure. */
export const EJECT_BASE_MS = 1_000;
export const EJECT_MAX_MS = 30_000;
/** How often every replica's /health/ready is asked, and how long one answer may take. */
export const HEALTH_INTERVAL_MS = 1_000;
const HEALTH_TIMEOUT_MS = 2_000;
/**
 * A replica that answered a forwarded request (below 500) this recently when its probe times out is
 * serving, whatever the probe says: a probe with no answer while answers keep coming is a worker busy
 * under load (its readiness waits behind the requests), not a host cut off. Ejecting it as one would
 * abort everything in flight on it and, for a single replica, turn the overload into a blanket 503.
 * Short, so a host cut off is still ejected when its probe times out (its last answer is then as old
 * as the probe's timeout). A probe that answers 503 (not ready, draining) ejects as ever.
 */
export const SERVED_RECENTLY_MS = 500;
/** How often a host name is resolved again (a headless Service's pods come and go). */
export const RESOLVE_INTERVAL_MS = 5_000;

export interface Replica {
  /** Origin requests go to, e.g. http://10.1.0.2:3003. */
  origin: string;
  inFlight: number;
  /** 0 while in rotation; otherwise the time (ms since epoch) it may take traffic again. */
  ejectedUntil: number;
  /** Consecutive failures: the back-off doubles with each. */
  failures: number;
  /** Why it was last ejected, for /status.json. */
  lastFailure?: string;
  /** Ejected because its readiness failed while it still answers (as opposed to refusing connections). */
  answering: boolean;
  /**
   * Ejected by a probe that got no answer (a host cut off, a hung process): it stays out past its
   * back-off until a probe passes, because a request sent to it on trial would wait, not fail fast.
   */
  untilProbePasses: boolean;
  /** When it last answered a forwarded request below 500 (ms since epoch); 0: never. */
  lastServedAt: number;
}

/** Least outstanding requests (ties round robin) unless told otherwise; see the README's measurement. */
export type BalancingPolicy = 'least-outstanding' | 'round-robin';

export interface ReplicaSetOptions {
  policy?: BalancingPolicy;
  /** Log one line when a replica leaves or rejoins rotation. */
  onChange?: (event: { origin: string; state: 'ejected' | 'rejoined'; reason?: string; forMs?: number }) => void;
  now?: () => number;
}

/**
 * How a worker's address is read: a comma-separated list is a fixed set of replicas; one URL whose
 * host is a name is resolved (and resolved again every RESOLVE_INTERVAL_MS) into one replica per
 * address, as a headless Kubernetes Service presents its pods; an IP address or a name with one
 * address is one replica (a ClusterIP Service balances by itself).
 */
export function parseWorkerAddress(value: string): { origins: string[]; resolveHost?: URL } {
  const urls = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => new URL(part));
  const only = urls[0];
  if (urls.length === 1 && only && !isIP(only.hostname.replace(/^\[|\]$/g, '')) && only.hostname !== 'localhost') {
    return { origins: [only.origin], resolveHost: only };
  }
  return { origins: urls.map((url) => url.origin) };
}

export class ReplicaSet {
  private replicas: Replica[];
  private nextIndex = 0;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly now: () => number;
  private readonly ejectListeners = new Map<Replica, Set<() => void>>();
  private readonly probing = new Set<Replica>();

  constructor(
    readonly name: string,
    address: string,
    private readonly options: ReplicaSetOptions = {},
  ) {
    const parsed = parseWorkerAddress(address);
    this.now = options.now ?? Date.now;
    this.replicas = parsed.origins.map((origin) => this.newReplica(origin));
    this.resolveHost = parsed.resolveHost;
  }

  private readonly resolveHost?: URL;

  private newReplica(origin: string): Replica {
    return {
      origin,
      inFlight: 0,
      ejectedUntil: 0,
      failures: 0,
      answering: true,
      untilProbePasses: false,
      lastServedAt: 0,
    };
  }

  /** Starts health probes and (for a host name) re-resolution. Idempotent; stop() ends both. */
  async start(): Promise<void> {
    if (this.timers.length > 0) return;
    if (this.resolveHost) {
      await this.resolve();
      this.timers.push(setInterval(() => void this.resolve(), RESOLVE_INTERVAL_MS));
    }
    this.timers.push(setInterval(() => void this.probeAll(), HEALTH_INTERVAL_MS));
    for (const timer of this.timers) timer.unref?.();
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  list(): readonly Replica[] {
    return this.replicas;
  }

  /**
   * The replica for the next request: fewest in flight among those in rotation. When every replica
   * is out but some still answer (all not ready, e.g. the database is down for everyone), those are
   * used anyway, as Envoy's panic threshold does: the worker's own answer (503 DB_UNAVAILABLE, a
   * cached read) beats a blanket 503 from here. Undefined only when nothing answers at all.
   */
  pick(exclude?: Replica): Replica | undefined {
    const now = this.now();
    const best = this.leastLoaded((replica) => replica !== exclude && this.inRotation(replica, now));
    this.nextIndex = (this.nextIndex + 1) % Math.max(1, this.replicas.length);
    return best ?? this.leastLoaded((replica) => replica !== exclude && replica.answering);
  }

  private leastLoaded(eligible: (replica: Replica) => boolean): Replica | undefined {
    let best: Replica | undefined;
    const count = this.replicas.length;
    for (let step = 0; step < count; step++) {
      const replica = this.replicas[(this.nextIndex + step) % count] as Replica;
      if (!eligible(replica)) continue;
      if (this.options.policy === 'round-robin') return replica;
      if (!best || replica.inFlight < best.inFlight) best = replica;
    }
    return best;
  }

  /**
   * Calls `listener` if `replica` is ejected before the returned function is called. The forwarder
   * uses it to move a safe request that waits on a replica just found dead to another replica.
   */
  onEject(replica: Replica, listener: () => void): () => void {
    let listeners = this.ejectListeners.get(replica);
    if (!listeners) {
      listeners = new Set();
      this.ejectListeners.set(replica, listeners);
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** Takes traffic: its back-off is over and, if a probe ejected it, a probe has passed since. */
  inRotation(replica: Replica, now = this.now()): boolean {
    return replica.ejectedUntil <= now && !replica.untilProbePasses;
  }

  /** Seconds until the first ejected replica may take traffic again (for Retry-After), at least 1. */
  retryAfterSeconds(): number {
    const now = this.now();
    const soonest = Math.min(...this.replicas.map((replica) => replica.ejectedUntil - now));
    return Math.max(1, Math.ceil((Number.isFinite(soonest) ? soonest : EJECT_BASE_MS) / 1000));
  }

  /**
   * Takes a replica out of rotation for a back-off that doubles with each consecutive failure.
   * `answering` says it still answers HTTP (readiness failed) rather than refusing connections.
   */
  eject(replica: Replica, reason: string, answering = false, untilProbePasses = false): void {
    const wasIn = this.inRotation(replica);
    replica.answering = answering;
    replica.untilProbePasses ||= untilProbePasses;
    const forMs = Math.min(EJECT_MAX_MS, EJECT_BASE_MS * 2 ** Math.min(replica.failures, 10));
    replica.failures++;
    replica.ejectedUntil = this.now() + forMs;
    replica.lastFailure = reason;
    if (!wasIn) return;
    this.options.onChange?.({ origin: replica.origin, state: 'ejected', reason, forMs });
    // Requests waiting on a replica that no longer answers would hang: they move. One that still answers
    // (not ready, draining) keeps them when there is nowhere better to go: aborting them would turn a
    // lone busy replica's slow answers into a blanket 503.
    const elsewhere = this.replicas.some((other) => other !== replica && this.inRotation(other));
    if (!answering || elsewhere) for (const listener of this.ejectListeners.get(replica) ?? []) listener();
  }

  /** A request or probe succeeded: the replica is healthy again. */
  succeeded(replica: Replica): void {
    if (replica.failures === 0 && replica.ejectedUntil === 0 && !replica.untilProbePasses) return;
    const wasOut = !this.inRotation(replica);
    replica.failures = 0;
    replica.ejectedUntil = 0;
    replica.untilProbePasses = false;
    replica.answering = true;
    if (wasOut) this.options.onChange?.({ origin: replica.origin, state: 'rejoined' });
  }

  /** A forwarded request got an answer below 500 from it (see SERVED_RECENTLY_MS). */
  served(replica: Replica): void {
    replica.lastServedAt = this.now();
  }

  /** Asks every replica's /health/ready once; ejects those that fail, readmits those that pass. */
  async probeAll(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => this.probe(replica)));
  }

  private async probe(replica: Replica): Promise<void> {
    if (this.probing.has(replica)) return; // the last probe has not answered yet
    this.probing.add(replica);
    try {
      const response = await fetch(`${replica.origin}/health/ready`, {
        signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      if (response.ok) this.succeeded(replica);
      else this.eject(replica, `readiness answered ${response.status}`, true);
    } catch (error) {
      // A refused probe fails as fast as a refused request would: the back-off alone decides. A probe
      // that got no answer in time means requests would hang too: out until a probe passes.
      const refused = /ECONNREFUSED|ConnectionRefused|Unable to connect/i.test(
        `${(error as { code?: string }).code ?? ''} ${(error as Error).message}`,
      );
      if (!refused && this.servedRecently(replica)) return;
      this.eject(replica, `readiness failed: ${(error as Error).message}`, false, !refused);
    } finally {
      this.probing.delete(replica);
    }
  }

  private servedRecently(replica: Replica): boolean {
    return this.now() - replica.lastServedAt < SERVED_RECENTLY_MS;
  }

  private async resolve(): Promise<void> {
    const url = this.resolveHost;
    if (!url) return;
    let addresses: string[];
    try {
      addresses = (await lookup(url.hostname, { all: true })).map((entry) =>
        entry.family === 6 ? `[${entry.address}]` : entry.address,
      );
    } catch {
      return; // keep what we had: a DNS hiccup must not empty the set
    }
    if (addresses.length === 0) return;
    const origins = addresses.map((address) => `${url.protocol}//${address}${url.port ? `:${url.port}` : ''}`);
    const known = new Map(this.replicas.map((replica) => [replica.origin, replica]));
    this.replicas = origins.map((origin) => known.get(origin) ?? this.newReplica(origin));
    for (const gone of known.values()) if (!this.replicas.includes(gone)) this.ejectListeners.delete(gone);
  }
}
