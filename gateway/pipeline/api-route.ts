// Stage: which worker, if any, a path belongs to. API paths must be plain: no route needs a
// percent-encoded character, and one would let `/api/v1/auth/logi%6E` (which the worker's router
// decodes to login) slip past the credential limit that compares paths. Workers refuse the same.
import { ValidationFailed } from '../../shared/http/errors.ts';
import { ENCODED_PATH_MESSAGE, hasEncodedCharacters } from '../../shared/http/plain-paths.ts';
import { type Upstream, upstreamFor } from '../upstreams.ts';
import { errorResponse, type Stage } from './pipeline.ts';

export function apiRouteStage(upstreams: Upstream[]): Stage {
  return {
    name: 'api-route',
    handle(context) {
      context.upstream = upstreamFor(upstreams, context.url.pathname);
      if (context.upstream && hasEncodedCharacters(context.url.pathname)) {
        return errorResponse(new ValidationFailed(ENCODED_PATH_MESSAGE), context.requestId);
      }
      return undefined;
    },
  };
}
