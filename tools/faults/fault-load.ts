// Steady load through the gateway while a fault is injected: concurrent creates and reads (the list
// with `cache-control: no-cache`, so every read reaches PostgreSQL), each answer recorded with its
// time, status, error code, Retry-After and latency, and every acknowledged create's id kept for the
// set check afterwards.

export interface Outcome {
  kind: 'create' | 'read';
  /** ms since the load started, when the request was sent. */
  at: number;
  latencyMs: number;
  /** HTTP status, or 0 when the connection was dropped without an answer. */
  status: number;
  code?: string;
  retryAfter?: string;
  /** The created client's id, for a 201. */
  id?: string;
  /** For a create: its Idempotency-Key and body, so an unanswered one can be sent again. */
  key?: string;
  body?: string;
}

export interface RunningLoad {
  /** ms since the load started. */
  now(): number;
  /** The answers so far (requests still in flight are not in it yet). */
  peek(): readonly Outcome[];
  stop(): Promise<Outcome[]>;
}

export function startFaultLoad(gatewayUrl: string, token: string, loops = 6): RunningLoad {
  const began = Date.now();
  const outcomes: Outcome[] = [];
  let running = true;
  const once = async (kind: Outcome['kind']) => {
    const at = Date.now() - began;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let request: Request;
    let key: string | undefined;
    let body: string | undefined;
    if (kind === 'create') {
      // Every create carries its own key, as a careful client does, so one left unanswered by the
      // fault can be sent again afterwards without risk of a second row.
      key = crypto.randomUUID();
      body = JSON.stringify({ name: `Fault load ${key}` });
      headers['content-type'] = 'application/json';
      headers['idempotency-key'] = key;
      request = new Request(`${gatewayUrl}/api/v1/clients`, { method: 'POST', headers, body });
    } else {
      headers['cache-control'] = 'no-cache';
      request = new Request(`${gatewayUrl}/api/v1/clients?limit=5`, { headers });
    }
    try {
      // The client's own limit is far above every bound the suite states: a hang shows as a hang.
      const response = await fetch(request, { signal: AbortSignal.timeout(30_000) });
      const answer = (await response.json().catch(() => undefined)) as { id?: string; code?: string } | undefined;
      outcomes.push({
        kind,
        at,
        latencyMs: Date.now() - began - at,
        status: response.status,
        code: answer?.code,
        retryAfter: response.headers.get('retry-after') ?? undefined,
        id: response.status === 201 ? answer?.id : undefined,
        key,
        body,
      });
    } catch {
      outcomes.push({ kind, at, latencyMs: Date.now() - began - at, status: 0, key, body });
    }
  };
  const workers = Array.from({ length: loops }, async (_, index) => {
    for (let i = index; running; i++) {
      await once(i % 3 === 0 ? 'create' : 'read');
      await Bun.sleep(10);
    }
  });
  return {
    now: () => Date.now() - began,
    peek: () => outcomes,
    async stop() {
      running = false;
      await Promise.all(workers);
      return outcomes.sort((a, b) => a.at - b.at);
    },
  };
}

/**
 * Sends an unanswered create again with its Idempotency-Key until it gets a 201 (a replay if the
 * first attempt was applied, a first write if not). Returns the client's id, or undefined.
 */
export async function resendCreate(gatewayUrl: string, token: string, outcome: Outcome): Promise<string | undefined> {
  for (let attempt = 0; attempt < 10 && outcome.key && outcome.body; attempt++) {
    const response = await fetch(`${gatewayUrl}/api/v1/clients`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': outcome.key,
      },
      body: outcome.body,
    }).catch(() => undefined);
    if (response?.status === 201) return ((await response.json()) as { id: string }).id;
    await Bun.sleep(500);
  }
  return undefined;
}
