// Stage: every API route but the credential ones needs a valid access token, checked here before
// any worker is bothered (the workers check again: no trust in the network). The rules (EdDSA only,
// issuer, audience, expiry, subject, session) are the workers' own, from shared/plugins/access-token.ts.
// Whether the session is still live is the workers' check (they read the database); only the edge
// cache, which answers without a worker, looks at it here.
import { createVerifier } from 'fast-jwt';
import { AuthRequired, AuthTokenInvalid } from '../../shared/http/errors.ts';
import { accessTokenVerifyRules } from '../../shared/plugins/access-token.ts';
import { CREDENTIAL_ROUTES } from '../../shared/plugins/rate-limits.ts';
import { errorResponse, type Stage } from './pipeline.ts';

const PUBLIC_ROUTES = new Set(CREDENTIAL_ROUTES.map((path) => `POST ${path}`));
const BEARER = /^Bearer\s+(\S+)$/i;

export function tokenCheckStage(options: { publicKey: string; issuer: string; audience: string }): Stage {
  const verify = createVerifier({
    key: options.publicKey,
    ...accessTokenVerifyRules(options.issuer, options.audience),
  });
  return {
    name: 'token-check',
    handle(context) {
      if (PUBLIC_ROUTES.has(`${context.request.method} ${context.url.pathname}`)) return undefined;
      const token = BEARER.exec(context.request.headers.get('authorization') ?? '')?.[1];
      if (!token) return errorResponse(new AuthRequired(), context.requestId);
      try {
        const claims = verify(token) as { sub: string; sid: string };
        context.subject = claims.sub;
        context.sessionId = claims.sid;
      } catch {
        return errorResponse(new AuthTokenInvalid(), context.requestId);
      }
      return undefined;
    },
  };
}
