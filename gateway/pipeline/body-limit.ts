// Stage: bodies over the limit get 413 PAYLOAD_TOO_LARGE from the gateway, in a way a client that
// writes its whole body before reading (Python's urllib, many HTTP libraries) can read:
// - declared too large (Content-Length): refused here, and like every answer given without reading the
//   body, sent only once the body has been read to its end and thrown away (discardUnreadBody, called
//   by app.ts for every answer). Left unread, Bun.serve drains a body only on a keep-alive connection:
//   a client sending `Connection: close`, as Python's urllib does, had its connection closed under it.
//   Past Bun.serve's own cap, DRAIN_LIMIT_BYTES (listen.ts), the body is refused without being read;
// - of undeclared length (chunked): streamed to the worker up to the limit, then read to its end and
//   thrown away (up to the same bound); only then does the forward stage answer 413. The worker is
//   never sent more than the limit, and its failure is not blamed on it (no 502, no ejection).
// Workers enforce the same limit the same way (shared/http/body-limit.ts).
import { BODY_LIMIT_BYTES, DRAIN_LIMIT_BYTES } from '../../shared/http/body-limit.ts';
import { PayloadTooLarge } from '../../shared/http/errors.ts';
import { errorResponse, type Stage } from './pipeline.ts';

export interface CountedBody {
  stream: ReadableStream<Uint8Array>;
  /** True once more than the limit has arrived: the stream then fails after draining. */
  readonly tooLarge: boolean;
}

/** `body` passed on up to `limit` bytes; past it, read on and discarded to its end (at most `drainLimit`), then failed. */
export function countBody(body: ReadableStream<Uint8Array>, limit: number, drainLimit: number): CountedBody {
  let seen = 0;
  const stream = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > drainLimit) return controller.error(new PayloadTooLarge());
        const room = limit - (seen - chunk.byteLength);
        if (room >= chunk.byteLength) controller.enqueue(chunk);
        else if (room > 0) controller.enqueue(chunk.subarray(0, room));
      },
      flush(controller) {
        if (seen > limit) controller.error(new PayloadTooLarge());
      },
    }),
  );
  return {
    stream,
    get tooLarge() {
      return seen > limit;
    },
  };
}

/**
 * Reads to its end, keeping nothing, a request body no stage read (the request was refused: 401, 413,
 * 429 …), so a client that writes its whole body before reading can read the refusal. Undefined when
 * there is nothing to read (most requests: no promise to wait for).
 */
export function discardUnreadBody(request: Request): Promise<void> | undefined {
  const { body } = request;
  if (!body || request.bodyUsed || body.locked) return undefined;
  return (async () => {
    try {
      for await (const _chunk of body) {
        // thrown away
      }
    } catch {
      // the client gave up: nobody is left to read the answer anyway
    }
  })();
}

export const bodyLimitStage: Stage = {
  name: 'body-limit',
  handle(context) {
    const declared = context.request.headers.get('content-length');
    if (declared !== null) {
      if (Number(declared) <= BODY_LIMIT_BYTES) return undefined;
      return errorResponse(new PayloadTooLarge(), context.requestId);
    }
    if (context.request.body) {
      context.countedBody = countBody(context.request.body, BODY_LIMIT_BYTES, DRAIN_LIMIT_BYTES);
    }
    return undefined;
  },
};
