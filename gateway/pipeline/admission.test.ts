// Admission control against a real origin that holds every request until the test lets it go: with the
// bound reached, an extra request is refused at once and never forwarded; queued requests go forward in
// arrival order as slots free; a request that waits past the deadline is refused; nothing is dropped;
// once the origin has answered, Retry-After tells each refused client its turn at the origin's pace.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Server } from 'bun';
import { ReplicaSet } from '../replica-set.ts';
import { upstreamAt } from '../upstreams.ts';
import { type AdmissionSettings, admissionStages } from './admission.ts';
import { forwardStage } from './forward.ts';
import { type GatewayRequest, runPipeline, type Stage } from './pipeline.ts';

/** An origin that records each request's arrival and answers only when released, in any order. */
function startHoldingOrigin() {
  const arrived: string[] = [];
  const held = new Map<string, () => void>();
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const id = new URL(request.url).searchParams.get('id') ?? '';
      arrived.push(id);
      await new Promise<void>((resolve) => held.set(id, resolve));
      return Response.json({ id });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    arrived,
    release(id: string) {
      const answer = held.get(id);
      if (!answer) throw new Error(`request ${id} has not reached the origin`);
      held.delete(id);
      answer();
    },
    stop: () => server.stop(true),
  };
}

let origin: ReturnType<typeof startHoldingOrigin>;
beforeAll(() => {
  origin = startHoldingOrigin();
});
afterAll(() => origin.stop());

/** Requests that got past the door to the stages between it and the gate (the token check's place). */
const pastTheDoor: string[] = [];

function pipelineFor(settings: AdmissionSettings) {
  const upstream = upstreamAt('client', '/api/v1/clients', new ReplicaSet('client', origin.url));
  const admission = admissionStages([upstream], settings);
  const stages: Stage[] = [
    {
      name: 'route',
      handle(context) {
        context.upstream = upstream;
        return undefined;
      },
    },
    admission.door,
    {
      name: 'token-check stand-in',
      handle(context) {
        pastTheDoor.push(context.requestId);
        return undefined;
      },
    },
    admission.gate,
    forwardStage({ timeoutMs: 5_000, log: { warn() {} } }),
  ];
  const server = { requestIP: () => ({ address: '127.0.0.1' }) } as unknown as Server<unknown>;
  return (id: string) => {
    const request = new Request(`http://gateway.test/api/v1/clients?id=${id}`);
    const context = { request, url: new URL(request.url), server, started: performance.now(), requestId: id };
    return runPipeline(stages, context as GatewayRequest);
  };
}

/** Waits until the origin has seen `count` requests (or fails after a second). */
async function arrivals(count: number): Promise<string[]> {
  for (let waited = 0; origin.arrived.length < count && waited < 1_000; waited += 5) await Bun.sleep(5);
  return [...origin.arrived];
}

describe('admission control', () => {
  test('past the bound and the queue: 503 with Retry-After at once, never forwarded; the queue drains in order', async () => {
    origin.arrived.length = 0;
    pastTheDoor.length = 0;
    const send = pipelineFor({
      maxInFlightPerReplica: 2,
      queueLimitPerReplica: 2,
      queueTimeoutMs: 5_000,
      retryAfterMaxSeconds: 10,
    });
    const inFlight = [send('a'), send('b')];
    expect(await arrivals(2)).toEqual(['a', 'b']);
    const queued = [send('c'), send('d')];
    await Bun.sleep(10); // c and d reach the queue

    const started = performance.now();
    const refused = await send('e');
    expect(performance.now() - started).toBeLessThan(100);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1'); // nothing answered yet: no pace, 1 s
    expect(((await refused.json()) as { code: string }).code).toBe('SERVICE_OVERLOADED');

    await Bun.sleep(50);
    expect(origin.arrived).toEqual(['a', 'b']); // c and d wait at the gateway; e never left it
    // The door refused e before the token check's place: a refusal costs no signature check.
    expect(pastTheDoor).toEqual(['a', 'b', 'c', 'd']);

    origin.release('b');
    expect(await arrivals(3)).toEqual(['a', 'b', 'c']);
    origin.release('a');
    expect(await arrivals(4)).toEqual(['a', 'b', 'c', 'd']);
    origin.release('c');
    origin.release('d');

    const answers = await Promise.all([...inFlight, ...queued]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(await Promise.all(answers.map(async (answer) => ((await answer.json()) as { id: string }).id))).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
    expect(origin.arrived).toEqual(['a', 'b', 'c', 'd']);
  });

  test('a request that waits past the deadline is refused and never forwarded; its slot is not lost', async () => {
    origin.arrived.length = 0;
    const send = pipelineFor({
      maxInFlightPerReplica: 1,
      queueLimitPerReplica: 4,
      queueTimeoutMs: 100,
      retryAfterMaxSeconds: 10,
    });
    const first = send('f');
    await arrivals(1);
    const started = performance.now();
    const waited = await send('g');
    const elapsed = performance.now() - started;
    expect(waited.status).toBe(503);
    expect(waited.headers.get('retry-after')).toBe('1');
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(1_000);

    origin.release('f');
    expect((await first).status).toBe(200);
    // The slot came back: the next request goes straight through.
    const next = send('h');
    expect(await arrivals(2)).toEqual(['f', 'h']);
    origin.release('h');
    expect((await next).status).toBe(200);
  });

  test('once the origin has a pace, each refusal is told its turn: later ones later, up to the maximum', async () => {
    origin.arrived.length = 0;
    const send = pipelineFor({
      maxInFlightPerReplica: 1,
      queueLimitPerReplica: 0,
      queueTimeoutMs: 500,
      retryAfterMaxSeconds: 3,
    });
    // One answer that held the slot about 300 ms: the origin's pace, one answer per ~0.3 s.
    const timed = send('p');
    await arrivals(1);
    await Bun.sleep(300);
    origin.release('p');
    expect((await timed).status).toBe(200);

    const holding = send('q');
    await arrivals(2);
    const told: number[] = [];
    for (let index = 0; index < 8; index++) {
      const refused = await send(`r${index}`);
      expect(refused.status).toBe(503);
      told.push(Number(refused.headers.get('retry-after')));
    }
    // The first waits for q and its own turn (~0.6 s): 1. Each later one is one answer later, so the
    // crowd is spread over 1, 2 and 3 s instead of all coming back in a second; 3 is the maximum.
    expect(told[0]).toBe(1);
    expect(told).toContain(2);
    expect(told.at(-1)).toBe(3);
    expect(told.every((seconds, index) => seconds >= (told[index - 1] ?? 1) && seconds <= 3)).toBe(true);
    expect(origin.arrived).toEqual(['p', 'q']); // none of them was forwarded
    origin.release('q');
    expect((await holding).status).toBe(200);
  });

  test('without a queue, the request past the bound is refused at once and the bound frees as answers come', async () => {
    origin.arrived.length = 0;
    const send = pipelineFor({
      maxInFlightPerReplica: 1,
      queueLimitPerReplica: 0,
      queueTimeoutMs: 500,
      retryAfterMaxSeconds: 10,
    });
    const first = send('i');
    await arrivals(1);
    expect((await send('j')).status).toBe(503);
    origin.release('i');
    await first;
    const second = send('k');
    expect(await arrivals(2)).toEqual(['i', 'k']);
    origin.release('k');
    expect((await second).status).toBe(200);
  });
});
