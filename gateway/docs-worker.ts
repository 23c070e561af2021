// The interactive API reference (/docs, @scalar/fastify-api-reference) in a Fastify app of its own, on
// a worker thread started by docs-thread.ts. Each message is one request, answered through inject().
import apiReference from '@scalar/fastify-api-reference';
import Fastify from 'fastify';
import type { DocsAnswer, DocsRequest } from './docs-thread.ts';

declare const self: Worker;

const app = Fastify({ logger: false });
await app.register(apiReference, {
  routePrefix: '/docs',
  // The merged document the gateway serves; no fonts from a CDN (the reference works offline).
  configuration: { url: '/openapi.json', withDefaultFonts: false, title: 'poolwise API' },
});
await app.ready();

self.onmessage = async ({ data }: MessageEvent<DocsRequest>) => {
  try {
    const answer = await app.inject({ method: data.method, url: data.url, headers: data.headers });
    const body = new Uint8Array(answer.rawPayload);
    const reply: DocsAnswer = { id: data.id, statusCode: answer.statusCode, headers: answer.headers, body };
    self.postMessage(reply, [body.buffer]);
  } catch (error) {
    self.postMessage({ id: data.id, error: (error as Error).message } satisfies DocsAnswer);
  }
};
self.postMessage({ ready: true });
