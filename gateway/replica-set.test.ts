// Balancing and ejection decisions, on a clock the test controls (a silent socket stands in for a cut host).
import { describe, expect, test } from 'bun:test';
import { createServer } from 'node:net';
import { EJECT_BASE_MS, parseWorkerAddress, ReplicaSet, SERVED_RECENTLY_MS } from './replica-set.ts';

function setOf(address: string) {
  let now = 1_000_000;
  const events: string[] = [];
  const set = new ReplicaSet('client', address, {
    now: () => now,
    onChange: (event) => events.push(`${event.state} ${event.origin}`),
  });
  return { set, events, advance: (ms: number) => (now += ms) };
}

describe('worker addresses', () => {
  test('a list, an IP address, and a host name to resolve', () => {
    expect(parseWorkerAddress('http://10.1.0.2:3003, http://10.1.0.3:3003').origins).toEqual([
      'http://10.1.0.2:3003',
      'http://10.1.0.3:3003',
    ]);
    expect(parseWorkerAddress('http://10.1.0.2:3003').resolveHost).toBeUndefined();
    expect(parseWorkerAddress('http://127.0.0.1:3003').resolveHost).toBeUndefined();
    expect(parseWorkerAddress('http://client.poolwise.svc:3003').resolveHost?.hostname).toBe('client.poolwise.svc');
  });
});

describe('least outstanding requests', () => {
  test('spreads evenly when nothing is in flight, and favours the least busy replica', () => {
    const { set } = setOf('http://a:1,http://b:1,http://c:1');
    const picked = Array.from({ length: 6 }, () => set.pick()?.origin);
    expect(new Set(picked).size).toBe(3);
    const [a, b] = set.list();
    if (!a || !b) throw new Error('three replicas expected');
    a.inFlight = 5;
    b.inFlight = 5;
    expect(Array.from({ length: 4 }, () => set.pick()?.origin)).toEqual(Array(4).fill('http://c:1'));
  });
});

describe('a replica whose probe got no answer', () => {
  test('stays out past its back-off until a probe passes (requests sent to it on trial would hang)', async () => {
    const silent = createServer(() => {}); // accepts, never answers: a host whose link is cut
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    let now = 1_000_000;
    const set = new ReplicaSet('client', `${origin},http://127.0.0.1:1`, { now: () => now });
    const [cut] = set.list();
    if (!cut) throw new Error('replica expected');
    try {
      await set.probeAll(); // the probe times out after 2 s
      expect(set.inRotation(cut)).toBe(false);
      now += EJECT_BASE_MS * 100;
      expect(set.inRotation(cut)).toBe(false);
      set.succeeded(cut); // what a passing probe does
      expect(set.inRotation(cut)).toBe(true);
    } finally {
      silent.close();
    }
  });

  test('a refused probe rejoins when its back-off ends, like a refused request', () => {
    const { set, advance } = setOf('http://a:1,http://b:1');
    const [a] = set.list();
    if (!a) throw new Error('replica expected');
    set.eject(a, 'readiness failed: connection refused');
    expect(set.inRotation(a)).toBe(false);
    advance(EJECT_BASE_MS);
    expect(set.inRotation(a)).toBe(true);
  });
});

describe('round robin (UPSTREAM_BALANCING=round-robin)', () => {
  test('takes turns whatever each replica has in flight, and still skips an ejected one', () => {
    const set = new ReplicaSet('client', 'http://a:1,http://b:1,http://c:1', { policy: 'round-robin' });
    const [a, b] = set.list();
    if (!a || !b) throw new Error('three replicas expected');
    a.inFlight = 5;
    expect(Array.from({ length: 6 }, () => set.pick()?.origin).sort()).toEqual(
      ['a', 'a', 'b', 'b', 'c', 'c'].map((name) => `http://${name}:1`),
    );
    set.eject(b, 'connection refused');
    expect(Array.from({ length: 4 }, () => set.pick()?.origin)).not.toContain('http://b:1');
  });
});

describe('ejection', () => {
  test('an ejected replica gets nothing for its back-off, which doubles per failure, then rejoins', () => {
    const { set, events, advance } = setOf('http://a:1,http://b:1');
    const [a] = set.list();
    if (!a) throw new Error('replica expected');
    set.eject(a, 'connection refused');
    expect(Array.from({ length: 4 }, () => set.pick()?.origin)).toEqual(Array(4).fill('http://b:1'));
    advance(EJECT_BASE_MS);
    expect(Array.from({ length: 4 }, () => set.pick()?.origin)).toContain('http://a:1');
    set.eject(a, 'connection refused');
    advance(EJECT_BASE_MS);
    expect(Array.from({ length: 4 }, () => set.pick()?.origin)).not.toContain('http://a:1'); // now 2 s
    set.succeeded(a);
    expect(events).toEqual(['ejected http://a:1', 'ejected http://a:1', 'rejoined http://a:1']);
  });

  test('every replica refusing: nothing to pick, and Retry-After says when one may be back', () => {
    const { set } = setOf('http://a:1,http://b:1');
    for (const replica of set.list()) set.eject(replica, 'connection refused');
    expect(set.pick()).toBeUndefined();
    expect(set.retryAfterSeconds()).toBe(1);
  });

  test('every replica not ready but answering: they still get traffic (their own 503s beat a blanket one)', () => {
    const { set } = setOf('http://a:1,http://b:1');
    for (const replica of set.list()) set.eject(replica, 'readiness answered 503', true);
    expect(set.pick()).toBeDefined();
  });

  test('a safe request waiting on a replica hears when it is ejected', () => {
    const { set } = setOf('http://a:1,http://b:1');
    const [a] = set.list();
    if (!a) throw new Error('replica expected');
    let heard = 0;
    const stop = set.onEject(a, () => heard++);
    set.eject(a, 'readiness failed');
    stop();
    set.succeeded(a);
    set.eject(a, 'again');
    expect(heard).toBe(1);
  });
});

describe('a replica that is serving when its probe fails', () => {
  test('a probe timeout does not eject it while its answers keep coming; it does once they stop', async () => {
    const silent = createServer(() => {}); // a worker too busy to answer its probe in time
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      let now = 1_000_000;
      const set = new ReplicaSet('client', `http://127.0.0.1:${(silent.address() as { port: number }).port}`, {
        now: () => now,
      });
      const [busy] = set.list();
      if (!busy) throw new Error('replica expected');
      set.served(busy); // it just answered a forwarded request
      await set.probeAll(); // the probe times out after 2 s
      expect(set.inRotation(busy)).toBe(true);
      now += SERVED_RECENTLY_MS; // no answer since: the same probe now ejects it
      await set.probeAll();
      expect(set.inRotation(busy)).toBe(false);
    } finally {
      silent.close();
    }
  }, 10_000);

  test('a 503 from its probe ejects it; what it is answering moves only when another replica can take it', async () => {
    const notReady = Bun.serve({ port: 0, fetch: () => new Response('not ready', { status: 503 }) });
    const ready = Bun.serve({ port: 0, fetch: () => new Response('ready') });
    try {
      for (const [address, movesTo] of [
        [`http://127.0.0.1:${notReady.port}`, 0], // alone: its own answers beat a blanket 503
        [`http://127.0.0.1:${notReady.port},http://127.0.0.1:${ready.port}`, 1], // another in rotation: they move
      ] as const) {
        const set = new ReplicaSet('client', address);
        const [busy] = set.list();
        if (!busy) throw new Error('replica expected');
        let moved = 0;
        const stop = set.onEject(busy, () => moved++);
        await set.probeAll();
        stop();
        expect(set.inRotation(busy), address).toBe(false);
        expect(moved, address).toBe(movesTo);
      }
    } finally {
      notReady.stop(true);
      ready.stop(true);
    }
  });
});
