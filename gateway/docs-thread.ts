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

/** What the reference answered to one request. */
export interface DocsPage {
  id: number;
  statusCode: number;
  headers: Record<string, unknown>;
  body: Uint8Array;
}

/** The worker's message for one request: the page, or why inject() threw. */
export type DocsAnswer = DocsPage | { id: number; error: string };

/** Why an answer did not come: the thread took too long, or stopped or failed under it. */
export class DocsThreadFailure extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

export interface DocsThread {
  answer(request: Omit<DocsRequest, 'id'>): Promise<DocsPage>;
  /** Whether a worker is running now, and how many were started so far (for tests). */
  readonly running: boolean;
  readonly starts: number;
  stop(): void;
}

const DOCS_WORKER = new URL('./docs-worker.ts', import.meta.url).href;

export function docsThread(options: { idleMs: number; timeoutMs: number; workerUrl?: string }): DocsThread {
  let worker: Worker | undefined;
  let ready: Promise<Worker> | undefined;
  let idle: ReturnType<typeof setTimeout> | undefined;
  let starts = 0;
  let nextId = 0;
  const pending = new Map<number, { resolve: (page: DocsPage) => void; reject: (error: Error) => void }>();

  function stop(failure = new DocsThreadFailure('the docs thread stopped')) {
    clearTimeout(idle);
    worker?.terminate();
    worker = undefined;
    ready = undefined;
    for (const waiting of pending.values()) waiting.reject(failure);
    pending.clear();
  }

  function start(): Promise<Worker> {
    const started = new Worker(options.workerUrl ?? DOCS_WORKER);
    started.unref(); // never what keeps the gateway running
    worker = started;
    starts++;
    return new Promise<Worker>((resolve, reject) => {
      const fail = (reason: string) => {
        const failure = new DocsThreadFailure(reason);
        reject(failure);
        if (worker === started) stop(failure);
      };
      started.addEventListener('message', ({ data }: MessageEvent<DocsAnswer | { ready: true }>) => {
        if ('ready' in data) return resolve(started);
        const waiting = pending.get(data.id);
        pending.delete(data.id);
        if ('error' in data) waiting?.reject(new DocsThreadFailure(`the docs thread failed: ${data.error}`));
        else waiting?.resolve(data);
      });
      // Bun's message carries a source excerpt after the first line.
      started.addEventListener('error', (event) =>
        fail(`the docs thread failed: ${String((event as ErrorEvent).message).split('\n')[0]}`),
      );
      // An exit without an error (process.exit in the thread) sends only this.
      started.addEventListener('close', () => fail('the docs thread exited'));
    });
  }

  return {
    get running() {
      return worker !== undefined;
    },
    get starts() {
      return starts;
    },
    stop: () => stop(),
    async answer(request) {
      clearTimeout(idle);
      ready ??= start();
      const id = nextId++;
      const answered = new Promise<DocsPage>((resolve, reject) => pending.set(id, { resolve, reject }));
      // Its start counts: a thread that never comes up fails the request as one that never answers.
      const timer = setTimeout(
        () => stop(new DocsThreadFailure(`the docs thread took over ${options.timeoutMs} ms`, true)),
        options.timeoutMs,
      );
      try {
        const running = await Promise.race([ready, answered.then(() => undefined)]);
        running?.postMessage({ ...request, id } satisfies DocsRequest);
        return await answered;
      } finally {
        clearTimeout(timer);
        if (pending.size === 0 && worker) {
          clearTimeout(idle);
          idle = setTimeout(() => pending.size === 0 && stop(), options.idleMs);
          idle.unref();
        }
      }
    },
  };
}
