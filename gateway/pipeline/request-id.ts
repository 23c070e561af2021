// Stage: every request gets an id (the caller's, if short and plain), which travels to the worker
// and comes back on the answer.
import { randomUUID } from 'node:crypto';
import { ACCEPTABLE_REQUEST_ID } from '../../shared/http/request-id.ts';
import type { Stage } from './pipeline.ts';

export const requestIdStage: Stage = {
  name: 'request-id',
  handle(context) {
    const incoming = context.request.headers.get('x-request-id');
    context.requestId = incoming && ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    return undefined;
  },
  finish(context, response, prepared) {
    // An answer built by answerWithStandingHeaders carries it already (pipeline.ts).
    if (!prepared) response.headers.set('x-request-id', context.requestId);
  },
};
