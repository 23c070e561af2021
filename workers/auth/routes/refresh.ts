import type { FastifyInstance } from 'fastify';
import { type AuthRouteLimits, accountKey } from '../../../shared/plugins/rate-limits.ts';
import type { TokenIssuer } from '../token-issuer.ts';
import { errorResponses } from './schemas.ts';

const tokenPairSchema = {
  type: 'object',
  required: ['accessToken', 'refreshToken', 'expiresIn'],
  properties: {
    accessToken: { type: 'string' },
    refreshToken: { type: 'string' },
    expiresIn: { type: 'integer', description: 'Seconds until the access token expires' },
  },
} as const;

export function refreshRoute(app: FastifyInstance, deps: { tokens: TokenIssuer; limits: AuthRouteLimits }) {
  app.post<{ Body: { refreshToken: string } }>(
    '/api/v1/auth/refresh',
    {
      // Per account (the body is parsed by then); the gateway limits per address before forwarding.
      config: {
        rateLimit: { ...deps.limits.perAccount, hook: 'preHandler', keyGenerator: accountKey('refreshToken') },
      },
      schema: {
        summary: 'Exchange a refresh token for a new pair (the old refresh token stops working)',
        operationId: 'refreshTokens',
        security: [],
        body: {
          type: 'object',
          required: ['refreshToken'],
          additionalProperties: false,
          properties: { refreshToken: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: tokenPairSchema, 403: { $ref: 'ErrorBody#' }, ...errorResponses },
      },
    },
    async (request) => deps.tokens.rotate(request.body.refreshToken),
  );
}
