// The API reference at /docs runs on a worker thread (docs-worker.ts), started by the first request
// for it and stopped after DOCS_IDLE_MS without one.
//
// Why not in the gateway's own app: the reference's browser bundle is a 5 MB string inside
// @scalar/fastify-api-reference, about 10 MB of JS heap once imported. Off the gateway's thread, an
// idle gateway holds 79 MB instead of 95 MB and listens in 530 ms instead of 660 ms (two starts
// each). Requests gain little: a minimal edge server that only imported the reference served 0.93 of
// the same server without it, both loaded at once (every garbage collection pays for a larger
// heap); the gateway, whose own heap is larger, served 1.00-1.02 without it of what it served with it
// (`tools/bench/edge-pair.ts --against`, within that tool's noise). A worker thread has a heap of its
// own, and holds it only while someone reads the docs.

export interface DocsRequest {
  id: number;
  method: 'GET' | 'HEAD';
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export type DocsAnswer =
  | { id: number; statusCode: number; headers: Record<string, unknown>; body: Uint8Array }
  | { id: number; error: string };

export interface DocsThread {
  answer(request: Omit<DocsRequest, 'id'>): Promise<Extract<DocsAnswer, { statusCode: number }>>;
  /** Whether the worker is running now (for tests). */
  readonly running: boolean;
  stop(): void;
}

export function docsThread(options: { idleMs: number; timeoutMs: number }): DocsThread {
  let worker: Worker | undefined;
  let ready: Promise<Worker> | undefined;
  let idle: ReturnType<typeof setTimeout> | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (answer: DocsAnswer) => void; reject: (error: Error) => void }>();

  function stop(reason = 'the docs thread stopped') {
    clearTimeout(idle);
    worker?.terminate();
    worker = undefined;
    ready = undefined;
    for (const waiting of pending.values()) waiting.reject(new Error(reason));
    pending.clear();
  }

  function start(): Promise<Worker> {
    const started = new Worker(new URL('./docs-worker.ts', import.meta.url).href);
    started.unref(); // never what keeps the gateway running
    worker = started;
    return new Promise<Worker>((resolve, reject) => {
      started.addEventListener('message', ({ data }: MessageEvent<DocsAnswer | { ready: true }>) => {
        if ('ready' in data) return resolve(started);
        const waiting = pending.get(data.id);
        pending.delete(data.id);
        if ('error' in data) waiting?.reject(new Error(data.error));
        else waiting?.resolve(data);
      });
      started.addEventListener('error', (event) => {
        const message = `the docs thread failed: ${(event as ErrorEvent).message}`;
        reject(new Error(message));
        if (worker === started) stop(message);
      });
    });
  }

  return {
    get running() {
      return worker !== undefined;
    },
    stop: () => stop(),
    async answer(request) {
      clearTimeout(idle);
      ready ??= start();
      const id = nextId++;
      const answered = new Promise<DocsAnswer>((resolve, reject) => pending.set(id, { resolve, reject }));
      // Its start counts: a thread that never comes up fails the request as one that never answers.
      const timer = setTimeout(() => stop(`the docs thread took over ${options.timeoutMs} ms`), options.timeoutMs);
      try {
        const running = await Promise.race([ready, answered.then(() => undefined)]);
        running?.postMessage({ ...request, id } satisfies DocsRequest);
        const answer = await answered;
        if ('error' in answer) throw new Error(answer.error);
        return answer;
      } finally {
        clearTimeout(timer);
        if (pending.size === 0 && worker) {
          idle = setTimeout(() => stop(), options.idleMs);
          idle.unref();
        }
      }
    },
  };
}
