// Stage: while this process's event loop lags past OVERLOAD_EVENT_LOOP_DELAY_MS, new work is refused
// with 503 SERVICE_OVERLOADED + Retry-After instead of queueing. The measurement is the operations
// app's @fastify/under-pressure, which samples this same process.
import { ServiceOverloaded } from '../../shared/http/errors.ts';
import { errorResponse, type Stage } from './pipeline.ts';

/** One error, only ever read: a new one would capture a stack trace per refusal (see admission.ts). */
const OVERLOADED = new ServiceOverloaded();

export function overloadStage(isOverloaded: () => boolean): Stage {
  return {
    name: 'overload',
    handle(context) {
      return isOverloaded() ? errorResponse(OVERLOADED, context.requestId) : undefined;
    },
  };
}
