// Issues the { accessToken, refreshToken, expiresIn } pair every auth response carries.
import type { FastifyInstance } from 'fastify';
import { AuthAccountDisabled, AuthRefreshInvalid, AuthRefreshReused } from '../../shared/http/errors.ts';
import type { Role } from '../../shared/plugins/access-token.ts';
import type { SessionRepository } from '../../shared/repositories/session-repository.ts';

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
  const accessTokenFor = (user: { id: string; role: Role }, familyId: string) =>
    app.jwt.sign({ sub: user.id, role: user.role, sid: familyId });

  return {
    /** A login or registration: a new refresh family. */
    async issueForNewLogin(user: { id: string; role: Role }): Promise<TokenPair> {
      const { token, familyId } = await sessions.startFamily(user.id, ttl.refreshSeconds);
      return { accessToken: await accessTokenFor(user, familyId), refreshToken: token, expiresIn: ttl.accessSeconds };
    },

    /** Rotation: the presented token stops working; a reused one ends its whole family. */
    async rotate(refreshToken: string): Promise<TokenPair> {
      const result = await sessions.rotate(refreshToken);
      if (result.outcome === 'reused') throw new AuthRefreshReused();
      if (result.outcome === 'disabled') throw new AuthAccountDisabled();
      if (result.outcome !== 'rotated') throw new AuthRefreshInvalid();
      return {
        accessToken: await accessTokenFor(result.user, result.familyId),
        refreshToken: result.token,
        expiresIn: ttl.accessSeconds,
      };
    },
  };
}

export type TokenIssuer = ReturnType<typeof createTokenIssuer>;
