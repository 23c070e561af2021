import type { FastifyInstance } from 'fastify';
import { AuthAccountDisabled, AuthInvalidCredentials, RateLimited } from '../../../shared/http/errors.ts';
import { verifyAgainstDummy, verifyPassword } from '../../../shared/passwords.ts';
import type { UserRepository } from '../../../shared/repositories/user-repository.ts';
import { type LoginBackoff, loginPairKey } from '../login-backoff.ts';
import type { TokenIssuer } from '../token-issuer.ts';
import { authResponseSchema, credentialsProperties, errorResponses } from './schemas.ts';

interface LoginBody {
  email: string;
  password: string;
}

export function loginRoute(
  app: FastifyInstance,
  deps: { users: UserRepository; tokens: TokenIssuer; backoff: LoginBackoff },
) {
  app.post<{ Body: LoginBody }>(
    '/api/v1/auth/login',
    {
      // Failures per account and address back off here (login-backoff.ts); the gateway limits every
      // attempt per address before forwarding.
      schema: {
        summary: 'Exchange email and password for tokens',
        operationId: 'logIn',
        security: [],
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: { ...credentialsProperties, password: { type: 'string', minLength: 1, maxLength: 128 } },
        },
        response: {
          200: authResponseSchema,
          403: { $ref: 'ErrorBody#' },
          429: { $ref: 'ErrorBody#' },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      // request.ip is the client's address: the gateway's X-Forwarded-For entry (one trusted hop more).
      const admission = deps.backoff.admit(loginPairKey(email, request.ip));
      if (!admission.admitted) {
        reply.header('retry-after', String(admission.retryAfterSeconds));
        throw new RateLimited(admission.retryAfterSeconds);
      }
      let found: Awaited<ReturnType<UserRepository['findForLogin']>>;
      try {
        found = await deps.users.findForLogin(email);
      } catch (error) {
        admission.abandoned(); // no verdict on the password: this attempt does not count
        throw error;
      }
      // Unknown email and wrong password take the same path and the same time (and back off alike).
      const valid = found ? await verifyPassword(password, found.passwordHash) : await verifyAgainstDummy(password);
      if (!found || !valid) throw new AuthInvalidCredentials();
      admission.succeeded();
      if (found.status !== 'ACTIVE') throw new AuthAccountDisabled();
      const { passwordHash, ...user } = found;
      return { user, ...(await deps.tokens.issueForNewLogin(user, passwordHash)) };
    },
  );
}
