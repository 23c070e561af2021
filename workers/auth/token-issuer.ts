// Issues the { accessToken, refreshToken, expiresIn } pair every auth response carries.
import type { FastifyInstance } from 'fastify';
import type { Role } from '../../shared/plugins/access-token.ts';
import type { SessionRepository } from './session-repository.ts';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export function createTokenIssuer(
  app: FastifyInstance,
  sessions: SessionRepository,
  ttl: { accessSeconds: number; refreshSeconds: number },
) {
  return {
    async issueForNewLogin(user: { id: string; role: Role }): Promise<TokenPair> {
      const accessToken = await app.jwt.sign({ sub: user.id, role: user.role });
      const refreshToken = await sessions.startFamily(user.id, ttl.refreshSeconds);
      return { accessToken, refreshToken, expiresIn: ttl.accessSeconds };
    },
  };
}

export type TokenIssuer = ReturnType<typeof createTokenIssuer>;
