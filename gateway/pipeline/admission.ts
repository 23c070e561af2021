// Stage: admission control in front of each worker. A worker serves about a thousand database-path
// requests a second on its one JS thread, and everything sent to it beyond what keeps that thread busy
// only waits in its sockets and its pool (DB_POOL_TIMEOUT, seconds) before failing. With 10,000
// clients that wait reaches ten seconds. So the gateway keeps the excess itself, and briefly:
//
// - at most UPSTREAM_MAX_IN_FLIGHT requests per replica in rotation are forwarded at once (enough to
//   keep a worker busy: the bench's 64 clients already saturate one);
// - up to UPSTREAM_QUEUE_LIMIT more per replica wait here, first in first out, each for at most
//   UPSTREAM_QUEUE_TIMEOUT_MS (well under the 2 s in which every client must hear back);
// - anything beyond is answered at once, 503 SERVICE_OVERLOADED with Retry-After, and never forwarded.
//
// Retry-After says when the client's turn comes (retry-after.ts): the backlog here plus everyone already
// told to come back, at the worker's measured pace, between 1 s and UPSTREAM_RETRY_AFTER_MAX_SECONDS.
// A crowd that honours it comes back about as fast as the worker answers, not all of it every second.
//
// The queue's bound is a count, not the worker's pace: a request still waiting at its deadline is
// refused then, like any overflow, with the same Retry-After. The slot is held from here until the
// forward stage has the worker's answer (its headers): `finish` frees it and hands it to the oldest
// waiter. It sits right before forward, so requests refused earlier (token,
// body limit) or answered at the edge cache take no slot.
//
// A crowd that ignores Retry-After comes straight back, so refusals must be cheap: they compete for
// the same CPU as the answers. A second stage, the door, placed right after the API route, refuses
// what the gate would refuse anyway (slots and queue full) before the token check's signature
// verification, the costliest step of a refusal. It takes no slot; what it lets in still meets the gate.
import { ServiceOverloaded } from '../../shared/http/errors.ts';
import type { Upstream } from '../upstreams.ts';
import { errorResponse, type GatewayRequest, type Stage } from './pipeline.ts';
import { nextMeanHoldMs, refusalWait } from './retry-after.ts';

export interface AdmissionSettings {
  /** Requests forwarded at once, per replica in rotation. */
  maxInFlightPerReplica: number;
  /** Requests waiting for a slot, per replica in rotation; beyond it, refused at once. */
  queueLimitPerReplica: number;
  /** How long one request may wait for a slot before it is refused. */
  queueTimeoutMs: number;
  /** The longest Retry-After a refusal carries, seconds; 1 tells every refused client 1 s. */
  retryAfterMaxSeconds: number;
}

interface Waiter {
  admit: () => void;
  refuse: () => void;
}

/** One worker's slots and its queue. */
export class AdmissionGate {
  inFlight = 0;
  private readonly queue: Waiter[] = [];
  /** Mean time a forwarded request held its slot (ms), the worker's pace; undefined before any answer. */
  private meanHoldMs: number | undefined;
  /** When the last client told to come back has its turn (performance.now() ms). */
  private promisedUntilMs = 0;

  constructor(
    private readonly upstream: Upstream,
    private readonly settings: AdmissionSettings,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Replicas in rotation, at least one: with none, forward answers 503 UPSTREAM_UNAVAILABLE itself. */
  private replicas(): number {
    const { replicas } = this.upstream;
    let count = 0;
    for (const replica of replicas.list()) if (replicas.inRotation(replica)) count++;
    return Math.max(1, count);
  }

  /** True when a request arriving now would be refused at once: every slot taken, the queue full. */
  full(): boolean {
    // Below one replica's slots it cannot be full: no need to count the replicas (most requests).
    if (this.inFlight < this.settings.maxInFlightPerReplica) return false;
    const replicas = this.replicas();
    return (
      this.inFlight >= this.settings.maxInFlightPerReplica * replicas &&
      this.queue.length >= this.settings.queueLimitPerReplica * replicas
    );
  }

  /** Resolves true when a slot is taken, false when the request is refused (queue full or deadline). */
  acquire(signal?: AbortSignal): boolean | Promise<boolean> {
    const replicas = this.replicas();
    if (this.inFlight < this.settings.maxInFlightPerReplica * replicas && this.queue.length === 0) {
      this.inFlight++;
      return true;
    }
    if (this.queue.length >= this.settings.queueLimitPerReplica * replicas) return false;
    return new Promise<boolean>((resolve) => {
      const leave = (admitted: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        resolve(admitted);
      };
      const waiter: Waiter = {
        admit: () => {
          this.inFlight++;
          leave(true);
        },
        refuse: () => leave(false),
      };
      // Past its deadline it is refused like any overflow; a client that hung up gives its place up.
      const timer = setTimeout(waiter.refuse, this.settings.queueTimeoutMs);
      const onAbort = () => waiter.refuse();
      signal?.addEventListener('abort', onAbort);
      this.queue.push(waiter);
    });
  }

  /** A forwarded request has its answer after holding its slot `heldMs`: the slot goes to the oldest waiter, if any. */
  release(heldMs: number): void {
    this.meanHoldMs = nextMeanHoldMs(this.meanHoldMs, heldMs);
    this.inFlight--;
    const capacity = this.settings.maxInFlightPerReplica * this.replicas();
    while (this.inFlight < capacity && this.queue.length > 0) this.queue[0]?.admit();
  }

  /** Retry-After for a request refused now: its turn after the backlog and everyone told before it. */
  retryAfterSeconds(nowMs = performance.now()): number {
    const wait = refusalWait({
      nowMs,
      backlog: this.inFlight + this.queue.length,
      slots: this.settings.maxInFlightPerReplica * this.replicas(),
      meanHoldMs: this.meanHoldMs,
      promisedUntilMs: this.promisedUntilMs,
      maxSeconds: this.settings.retryAfterMaxSeconds,
    });
    this.promisedUntilMs = wait.promisedUntilMs;
    return wait.seconds;
  }
}

/**
 * One error for every refusal: it is only read (errorResponse renders its code and message), and
 * building a new one captures a stack trace each time, about a tenth of the gateway's CPU under a
 * crowd asking again at once (`profile-gateway.ts shed`).
 */
const OVERLOADED = new ServiceOverloaded();

/** The gate (right before forward) and its door (right after the API route); see the top of this file. */
export function admissionStages(
  upstreams: readonly Upstream[],
  settings: AdmissionSettings,
): { door: Stage; gate: Stage } {
  const gates = new Map(upstreams.map((upstream) => [upstream, new AdmissionGate(upstream, settings)]));
  /** The gate whose slot a request holds, and since when (performance.now() ms). */
  const holding = new WeakMap<GatewayRequest, { gate: AdmissionGate; sinceMs: number }>();
  const refuse = (context: GatewayRequest, gate: AdmissionGate) =>
    errorResponse(OVERLOADED, context.requestId, gate.retryAfterSeconds());
  const door: Stage = {
    name: 'admission-door',
    handle(context) {
      const gate = context.upstream && gates.get(context.upstream);
      return gate?.full() ? refuse(context, gate) : undefined;
    },
  };
  const gate: Stage = {
    name: 'admission',
    handle(context) {
      const gate = context.upstream && gates.get(context.upstream);
      if (!gate) return undefined;
      const taken = gate.acquire(context.request.signal);
      if (taken === true) {
        holding.set(context, { gate, sinceMs: performance.now() });
        return undefined;
      }
      if (taken === false) return refuse(context, gate);
      return taken.then((admitted) => {
        if (!admitted) return refuse(context, gate);
        holding.set(context, { gate, sinceMs: performance.now() });
        return undefined;
      });
    },
    finish(context) {
      const held = holding.get(context);
      if (!held) return;
      held.gate.release(performance.now() - held.sinceMs);
      holding.delete(context);
    },
  };
  return { door, gate };
}
