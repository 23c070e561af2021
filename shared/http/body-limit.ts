// Bodies over the limit get a 413 PAYLOAD_TOO_LARGE the client can read. A client such as Python's
// urllib writes its whole body before it reads anything; answering and closing while it still writes
// makes its next write fail (EPIPE, or a reset that discards the answer), so it never sees the 413.
// Fastify does exactly that: on a body over its limit it answers at once with `Connection: close`.
// So, like nginx's lingering close, the rest of the body is read and discarded first, up to
// DRAIN_LIMIT_BYTES; past that bound the connection is closed (someone sending that much is not
// waiting for an answer). The gateway does the same on its port (gateway/pipeline/body-limit.ts).
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { PayloadTooLarge } from './errors.ts';

/** The most a route accepts: Fastify's default, kept at the gateway and in every worker. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** The most read and thrown away so that a client sending too much can still read its 413. */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/** Resolves once `stream` has ended, or once more than `limit` bytes have gone by (then it is left). */
function discard(stream: NodeJS.ReadableStream, limit: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      stream.removeListener('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) done();
    };
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('error', done);
    stream.resume();
  });
}

/**
 * Passes a body of unknown length (chunked) through up to `limit` bytes; past that it passes nothing
 * more, keeps reading to the end, and only then fails with 413: the client has finished writing and
 * reads the answer. Past `drainLimit` it fails at once.
 */
export class BoundedBody extends Transform {
  private seen = 0;

  constructor(
    private readonly limit: number,
    private readonly drainLimit: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    const room = this.limit - (this.seen - chunk.length);
    if (this.seen > this.drainLimit) callback(new PayloadTooLarge());
    else if (room >= chunk.length) callback(null, chunk);
    else callback(null, room > 0 ? chunk.subarray(0, room) : undefined);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.seen > this.limit ? new PayloadTooLarge() : null);
  }
}

export function drainOversizedBodies(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    const declared = request.headers['content-length'];
    if (declared !== undefined) {
      if (Number(declared) <= BODY_LIMIT_BYTES) return payload;
      if (Number(declared) <= DRAIN_LIMIT_BYTES) await discard(payload, DRAIN_LIMIT_BYTES);
      else reply.header('connection', 'close');
      throw new PayloadTooLarge();
    }
    if (request.headers['transfer-encoding'] === undefined) return payload;
    return payload.pipe(new BoundedBody(BODY_LIMIT_BYTES, DRAIN_LIMIT_BYTES));
  });
}
