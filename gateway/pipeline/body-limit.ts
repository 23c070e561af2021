// Stage: a body declared larger than the limit is refused here with 413 PAYLOAD_TOO_LARGE, before any
// worker is asked. (A chunked body over it is refused by the worker's own limit, in the same shape.)
import { PayloadTooLarge } from '../../shared/http/errors.ts';
import { errorResponse, type Stage } from './pipeline.ts';

/** Fastify's default body limit, kept for API bodies too. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export const bodyLimitStage: Stage = {
  name: 'body-limit',
  handle(context) {
    if (Number(context.request.headers.get('content-length') ?? 0) <= BODY_LIMIT_BYTES) return undefined;
    return errorResponse(new PayloadTooLarge(), context.requestId);
  },
};
