// Stage: every API route but the credential ones needs a valid access token, checked here before
// any worker is bothered (the workers check again: no trust in the network). The rules (EdDSA only,
// issuer, audience, expiry, subject, session) are the workers' own, from shared/plugins/access-token.ts.
// Whether the session is still live is the workers' check (they read the database); only the edge
// cache, which answers without a worker, looks at it here.
//
// The token is read once per request, by whichever needs it first: the rate limit, earlier in the
// pipeline, counts a request with a valid token against its account (rate-limit.ts).
import { createVerifier } from 'fast-jwt';
import { AuthRequired, AuthTokenInvalid } from '../../shared/http/errors.ts';
import { accessTokenVerifyRules } from '../../shared/plugins/access-token.ts';
import { isCredentialRequest } from '../../shared/plugins/rate-limits.ts';
import { type AccessTokenVerdict, errorResponse, type GatewayRequest, type Stage } from './pipeline.ts';

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The request's access token, verified on first use; when valid, its subject and session are on the
 * request. The verdict is kept on the request, so a pipeline has exactly one reader (app.ts).
 */
export type AccessTokenOf = (context: GatewayRequest) => AccessTokenVerdict;

export function accessTokenReader(options: { publicKey: string; issuer: string; audience: string }): AccessTokenOf {
  const verify = createVerifier({
    key: options.publicKey,
    ...accessTokenVerifyRules(options.issuer, options.audience),
  });
  return (context) => {
    if (context.accessToken) return context.accessToken;
    const token = BEARER.exec(context.request.headers.get('authorization') ?? '')?.[1];
    if (!token) {
      context.accessToken = 'missing';
      return 'missing';
    }
    try {
      const claims = verify(token) as { sub: string; sid: string };
      context.subject = claims.sub;
      context.sessionId = claims.sid;
      context.accessToken = 'valid';
    } catch {
      context.accessToken = 'invalid';
    }
    return context.accessToken;
  };
}

export function tokenCheckStage(accessTokenOf: AccessTokenOf): Stage {
  return {
    name: 'token-check',
    handle(context) {
      if (isCredentialRequest(context.request.method, context.url.pathname)) return undefined;
      const verdict = accessTokenOf(context);
      if (verdict === 'missing') return errorResponse(new AuthRequired(), context.requestId);
      if (verdict === 'invalid') return errorResponse(new AuthTokenInvalid(), context.requestId);
      return undefined;
    },
  };
}
