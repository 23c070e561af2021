// The gateway's answer to a body over the limit reaches a client that writes its whole body before it
// reads (tools/testing/whole-body-client.ts). Declared too large: 413 at once, the worker never asked.
// Chunked past the limit: the worker is sent no more than the limit, the rest is drained, then 413
// from the gateway (not a 502 blamed on the worker). Bodies within the limit go through whole.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { validateConfig } from '../../shared/env.ts';
import { BODY_LIMIT_BYTES } from '../../shared/http/body-limit.ts';
import { testKeys } from '../../tools/testing/helpers.ts';
import { sendWholeBodyThenRead } from '../../tools/testing/whole-body-client.ts';
import { buildApp } from '../app.ts';
import { type ListeningGateway, listenGateway } from '../listen.ts';

/** A worker stand-in that counts the body bytes it was sent, even of a body that never ends well. */
const received: number[] = [];
const worker = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(request) {
    if (new URL(request.url).pathname === '/health/ready') return Response.json({ status: 'ready' });
    const index = received.push(0) - 1;
    try {
      for await (const chunk of request.body ?? []) received[index] = (received[index] ?? 0) + chunk.byteLength;
    } catch {
      // the gateway cut the body off: what counted is what arrived
    }
    return Response.json({ size: received[index] });
  },
});

let gateway: ListeningGateway;
beforeAll(async () => {
  const config = validateConfig('gateway', {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SERVICE_URL: `http://127.0.0.1:${worker.port}`,
  });
  const app = await buildApp({ config, keys: { publicKey: testKeys.publicKey } });
  gateway = await listenGateway(app, { host: '127.0.0.1', port: 0, upstreamTimeoutSeconds: 5 });
});
afterAll(async () => {
  await gateway?.close();
  worker.stop(true);
});

const send = (size: number, chunked: boolean, connection = 'keep-alive') =>
  sendWholeBodyThenRead(gateway.url, {
    method: 'POST',
    path: '/api/v1/auth/login', // a public route: no token needed to reach the body limit
    headers: {
      'content-type': 'application/json',
      connection,
      ...(chunked ? {} : { 'content-length': String(size) }),
    },
    body: Buffer.alloc(size, 'x'),
    chunked,
  });

describe('bodies over the limit, at the gateway', () => {
  test.each(['keep-alive', 'close'])(
    'declared too large, Connection: %s: the client finishes writing and reads a 413; no worker is asked',
    async (connection) => {
      received.length = 0;
      const answer = await send(16 * 1024 * 1024, false, connection);
      expect(answer.writeError).toBeUndefined();
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
      expect(answer.headers['x-request-id']).toBeDefined();
      expect(received).toEqual([]);
    },
  );

  test.each(['keep-alive', 'close'])(
    'chunked past the limit, Connection: %s: the worker gets at most the limit, the client reads the 413',
    async (connection) => {
      received.length = 0;
      const answer = await send(16 * 1024 * 1024, true, connection);
      expect(answer.writeError).toBeUndefined();
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
      expect(received.length).toBeLessThanOrEqual(1);
      expect(received[0] ?? 0).toBeLessThanOrEqual(BODY_LIMIT_BYTES);
    },
  );

  test('any refusal given without reading the body (here a 401) is read by a client that sends it all first', async () => {
    const answer = await sendWholeBodyThenRead(gateway.url, {
      method: 'POST',
      path: '/api/v1/auth/logout', // needs a token: refused before the body limit is looked at
      headers: { 'content-type': 'application/json', connection: 'close', 'content-length': String(16 * 1024 * 1024) },
      body: Buffer.alloc(16 * 1024 * 1024, 'x'),
    });
    expect(answer.writeError).toBeUndefined();
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'AUTH_REQUIRED' });
  });

  test.each([false, true])('chunked: %p → a body within the limit reaches the worker whole', async (chunked) => {
    received.length = 0;
    const answer = await send(BODY_LIMIT_BYTES, chunked);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ size: BODY_LIMIT_BYTES });
  });
});
