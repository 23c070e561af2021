// The /docs relay (docs-routes.ts) when the reference's thread fails for real: stand-in workers that
// exit, never answer or answer 500 make the routes answer 503, 504 and 502 in the one error shape.
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { installErrorHandling } from '../shared/http/error-handler.ts';
import { registerDocsRoutes } from './docs-routes.ts';
import { docsThread } from './docs-thread.ts';

const stubs = mkdtempSync(join(tmpdir(), 'poolwise-docs-routes-'));
afterAll(() => rmSync(stubs, { recursive: true, force: true }));

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close(); // stops the thread too (onClose)
  app = undefined;
});

async function appWithWorker(name: string, onRequest: string, timeoutMs = 10_000) {
  const workerUrl = join(stubs, `${name}.js`);
  writeFileSync(workerUrl, `self.onmessage = ({ data }) => { ${onRequest} };\nself.postMessage({ ready: true });\n`);
  app = Fastify({ logger: false });
  installErrorHandling(app);
  registerDocsRoutes(app, {}, docsThread({ idleMs: 60_000, timeoutMs, workerUrl }));
  await app.ready();
  return app;
}

describe('the /docs relay when the thread fails', () => {
  for (const [what, onRequest, timeoutMs, status, code] of [
    ['a thread that exits', 'process.exit(0)', 10_000, 503, 'UPSTREAM_UNAVAILABLE'],
    ['a thread that never answers', '', 500, 504, 'UPSTREAM_TIMEOUT'],
    [
      'a reference that answers 500',
      'self.postMessage({ id: data.id, statusCode: 500, headers: {}, body: new Uint8Array(0) })',
      10_000,
      502,
      'UPSTREAM_BAD_RESPONSE',
    ],
  ] as const) {
    test(`${what}: ${status} ${code} in the one error shape`, async () => {
      const served = await appWithWorker(code, onRequest, timeoutMs);
      const response = await served.inject({ method: 'GET', url: '/docs/' });
      expect(response.statusCode).toBe(status);
      const body = response.json() as { code: string; statusCode: number; requestId: string };
      expect(body.code).toBe(code);
      expect(body.statusCode).toBe(status);
      expect(body.requestId).toBeString();
    }, 30_000);
  }
});
