import type { FastifyInstance } from 'fastify';
import { AuthAccountDisabled, AuthInvalidCredentials } from '../../../shared/http/errors.ts';
import { verifyAgainstDummy, verifyPassword } from '../../../shared/passwords.ts';
import { type AuthRouteLimits, accountKey } from '../../../shared/plugins/rate-limits.ts';
import type { UserRepository } from '../../../shared/repositories/user-repository.ts';
import type { TokenIssuer } from '../token-issuer.ts';
import { authResponseSchema, credentialsProperties, errorResponses } from './schemas.ts';

interface LoginBody {
  email: string;
  password: string;
}

export function loginRoute(
  app: FastifyInstance,
  deps: { users: UserRepository; tokens: TokenIssuer; limits: AuthRouteLimits },
) {
  app.post<{ Body: LoginBody }>(
    '/api/v1/auth/login',
    {
      // Per account (the body is parsed by then); the gateway limits per address before forwarding.
      config: { rateLimit: { ...deps.limits.perAccount, hook: 'preHandler', keyGenerator: accountKey('email') } },
      schema: {
        summary: 'Exchange email and password for tokens',
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: { ...credentialsProperties, password: { type: 'string', minLength: 1, maxLength: 128 } },
        },
        response: { 200: authResponseSchema, 403: { $ref: 'ErrorBody#' }, ...errorResponses },
      },
    },
    async (request) => {
      const { email, password } = request.body;
      const found = await deps.users.findForLogin(email);
      // Unknown email and wrong password take the same path and the same time.
      const valid = found ? await verifyPassword(password, found.passwordHash) : await verifyAgainstDummy(password);
      if (!found || !valid) throw new AuthInvalidCredentials();
      if (found.status !== 'ACTIVE') throw new AuthAccountDisabled();
      const { passwordHash: _hash, ...user } = found;
      return { user, ...(await deps.tokens.issueForNewLogin(user)) };
    },
  );
}
