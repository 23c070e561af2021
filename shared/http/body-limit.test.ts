// A worker's answer to a body over the limit reaches a client that writes its whole body before it
// reads (tools/testing/whole-body-client.ts): declared too large or chunked past the limit, the rest
// is read and thrown away, then 413 PAYLOAD_TOO_LARGE in the error shape. Bodies within the limit,
// chunked or not, reach the route whole.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { FastifyInstance } from 'fastify';
import { sendWholeBodyThenRead } from '../../tools/testing/whole-body-client.ts';
import { BODY_LIMIT_BYTES, BoundedBody } from './body-limit.ts';
import { createServiceApp } from './create-service-app.ts';

let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = await createServiceApp({ service: 'client' });
  app.post('/echo-size', async (request) => ({ size: JSON.stringify(request.body).length }));
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => app.close());

/** A JSON document of about `bytes` bytes. */
const jsonOf = (bytes: number) => Buffer.from(JSON.stringify({ notes: 'x'.repeat(bytes - 13) }));
const OVER = 8 * 1024 * 1024;

describe('bodies over the limit, at a worker', () => {
  test.each([
    [false, 'keep-alive'],
    [false, 'close'],
    [true, 'keep-alive'],
    [true, 'close'],
  ])(
    'chunked: %p, Connection: %s → the client finishes writing and reads a 413 in the error shape',
    async (chunked, connection) => {
      const body = jsonOf(OVER);
      const answer = await sendWholeBodyThenRead(url, {
        method: 'POST',
        path: '/echo-size',
        headers: {
          'content-type': 'application/json',
          connection,
          ...(chunked ? {} : { 'content-length': String(body.length) }),
        },
        body,
        chunked,
      });
      expect(answer.writeError).toBeUndefined();
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({
        statusCode: 413,
        code: 'PAYLOAD_TOO_LARGE',
        error: 'Payload Too Large',
      });
    },
  );

  test.each([false, true])('chunked: %p → a body within the limit reaches the route whole', async (chunked) => {
    const body = jsonOf(BODY_LIMIT_BYTES - 10);
    const answer = await sendWholeBodyThenRead(url, {
      method: 'POST',
      path: '/echo-size',
      headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(body.length) }) },
      body,
      chunked,
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ size: body.length });
  });
});

describe('BoundedBody', () => {
  const run = async (chunks: string[], limit: number, drainLimit: number) => {
    const bounded = new BoundedBody(limit, drainLimit);
    const passed: string[] = [];
    bounded.on('data', (chunk: Buffer) => passed.push(chunk.toString()));
    const outcome = new Promise<string>((resolve) => {
      bounded.on('end', () => resolve('end'));
      bounded.on('error', (error: Error & { code?: string }) => resolve(error.code ?? error.message));
    });
    for (const chunk of chunks) bounded.write(Buffer.from(chunk));
    bounded.end();
    return { passed: passed.join(''), outcome: await outcome };
  };

  test('passes a body within the limit and ends', async () => {
    expect(await run(['abc', 'def'], 6, 10)).toEqual({ passed: 'abcdef', outcome: 'end' });
  });

  test('passes nothing past the limit, reads to the end, then fails with 413', async () => {
    expect(await run(['abc', 'def', 'gh'], 4, 100)).toEqual({ passed: 'abcd', outcome: 'PAYLOAD_TOO_LARGE' });
  });

  test('past the drain bound it fails at once', async () => {
    const { outcome } = await run(['abc', 'def', 'ghi', 'jkl'], 2, 8);
    expect(outcome).toBe('PAYLOAD_TOO_LARGE');
  });
});
