// The API reference's thread (docs-thread.ts): the reference's bundle never enters the gateway's own
// heap, the thread starts on the first request, answers as the reference would, and goes away when idle.
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DocsThread, DocsThreadFailure, docsThread } from './docs-thread.ts';

const loadedInThisThread = () => Object.keys(require.cache).filter((path) => path.includes('@scalar/'));

let thread: DocsThread | undefined;
afterEach(() => thread?.stop());

// Stand-ins for the reference's worker that fail the ways a thread can: each comes up, then on its
// first request throws, exits, or never answers.
const stubs = mkdtempSync(join(tmpdir(), 'poolwise-docs-stubs-'));
afterAll(() => rmSync(stubs, { recursive: true, force: true }));
function stubWorker(name: string, onRequest: string): string {
  const path = join(stubs, `${name}.js`);
  writeFileSync(path, `self.onmessage = () => { ${onRequest} };\nself.postMessage({ ready: true });\n`);
  return path;
}
const request = { method: 'GET', url: '/docs/', headers: {} } as const;

describe('the docs thread', () => {
  test('no module of the gateway loads the reference into its own heap', async () => {
    await import('./app.ts');
    expect(loadedInThisThread()).toEqual([]);
  });

  test('starts on the first request and answers as the reference does: the redirect, the page, its bundle', async () => {
    thread = docsThread({ idleMs: 60_000, timeoutMs: 30_000 });
    expect(thread.running).toBe(false);
    const redirect = await thread.answer({ method: 'GET', url: '/docs', headers: { host: 'gateway' } });
    expect(thread.running).toBe(true);
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/docs/');

    const page = await thread.answer({ method: 'GET', url: '/docs/', headers: { host: 'gateway' } });
    expect(page.statusCode).toBe(200);
    expect(String(page.headers['content-type'])).toStartWith('text/html');
    const html = new TextDecoder().decode(page.body);
    expect(html).toContain('/openapi.json');
    expect(html).toContain('js/scalar.js');

    const bundle = await thread.answer({ method: 'GET', url: '/docs/js/scalar.js', headers: { host: 'gateway' } });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.byteLength).toBeGreaterThan(1_000_000);
    expect(loadedInThisThread()).toEqual([]);
  }, 60_000);

  test('requests racing the start share one thread, and each gets its own answer', async () => {
    thread = docsThread({ idleMs: 60_000, timeoutMs: 30_000 });
    const paths = ['/docs', '/docs/', '/docs/nothing-here', '/docs', '/docs/'];
    const answers = await Promise.all(
      paths.map((url) => (thread as DocsThread).answer({ method: 'GET', url, headers: { host: 'gateway' } })),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual([301, 200, 404, 301, 200]);
    expect(thread.starts).toBe(1);
  }, 60_000);

  test('stops when idle and starts again on the next request', async () => {
    thread = docsThread({ idleMs: 300, timeoutMs: 30_000 });
    await thread.answer({ method: 'GET', url: '/docs/', headers: { host: 'gateway' } });
    expect(thread.running).toBe(true);
    await Bun.sleep(800);
    expect(thread.running).toBe(false);
    const again = await thread.answer({ method: 'HEAD', url: '/docs/', headers: { host: 'gateway' } });
    expect(again.statusCode).toBe(200);
    expect(again.body.byteLength).toBe(0);
    expect(thread.starts).toBe(2);
  }, 60_000);

  test('a request not answered in time fails, and takes the thread down with it', async () => {
    // Far too short for the reference to load: the first request times out while the thread starts.
    thread = docsThread({ idleMs: 60_000, timeoutMs: 1 });
    const failure = await thread.answer(request).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DocsThreadFailure);
    expect((failure as DocsThreadFailure).timedOut).toBe(true);
    expect(thread.running).toBe(false);
  }, 60_000);

  for (const [how, onRequest, timedOut] of [
    ['throws', "throw new Error('boom')", false],
    ['exits without an error', 'process.exit(0)', false],
    ['never answers', '', true],
  ] as const) {
    test(`a thread that ${how} on a request fails it, and the next request gets a fresh thread`, async () => {
      thread = docsThread({
        idleMs: 60_000,
        timeoutMs: 2_000,
        workerUrl: stubWorker(how.replace(/ /g, '-'), onRequest),
      });
      const started = performance.now();
      const failure = await thread.answer(request).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DocsThreadFailure);
      expect((failure as DocsThreadFailure).timedOut).toBe(timedOut);
      // A crash or an exit is seen at once, not at the timeout.
      if (!timedOut) expect(performance.now() - started).toBeLessThan(1_500);
      expect(thread.running).toBe(false);
      await thread.answer(request).catch(() => undefined);
      expect(thread.starts).toBe(2);
    }, 30_000);
  }
});
