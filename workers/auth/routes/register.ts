import type { FastifyInstance } from 'fastify';
import { AuthEmailTaken } from '../../../shared/http/errors.ts';
import { hashPassword } from '../../../shared/passwords.ts';
import { type AuthRouteLimits, accountKey } from '../../../shared/plugins/rate-limits.ts';
import type { UserRepository } from '../../../shared/repositories/user-repository.ts';
import type { TokenIssuer } from '../token-issuer.ts';
import { authResponseSchema, credentialsProperties, errorResponses } from './schemas.ts';

interface RegisterBody {
  email: string;
  password: string;
  name: string;
}

export function registerRoute(
  app: FastifyInstance,
  deps: { users: UserRepository; tokens: TokenIssuer; limits: AuthRouteLimits },
) {
  app.post<{ Body: RegisterBody }>(
    '/api/v1/auth/register',
    {
      // Per account (the body is parsed by then); the gateway limits per address before forwarding.
      config: { rateLimit: { ...deps.limits.perAccount, hook: 'preHandler', keyGenerator: accountKey('email') } },
      schema: {
        summary: 'Create an account and log in',
        operationId: 'registerAccount',
        security: [],
        body: {
          type: 'object',
          required: ['email', 'password', 'name'],
          additionalProperties: false,
          properties: { ...credentialsProperties, name: { type: 'string', minLength: 1, maxLength: 100 } },
        },
        response: { 201: authResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { email, password, name } = request.body;
      const passwordHash = await hashPassword(password);
      const user = await deps.users.create({ email, name: name.trim(), passwordHash });
      if (!user) throw new AuthEmailTaken();
      const tokens = await deps.tokens.issueForNewLogin(user, passwordHash);
      return reply.code(201).send({ user, ...tokens });
    },
  );
}
