// Issues the { accessToken, refreshToken, expiresIn } pair every auth response carries.
import type { FastifyInstance } from 'fastify';
import {
  AuthAccountDisabled,
  AuthInvalidCredentials,
  AuthRefreshInvalid,
  AuthRefreshReused,
} from '../../shared/http/errors.ts';
import type { Role } from '../../shared/plugins/access-token.ts';
import type { CachedSessionStanding } from '../../shared/repositories/cached-session-standing.ts';
import type { SessionRepository } from '../../shared/repositories/session-repository.ts';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export function createTokenIssuer(
  app: FastifyInstance,
  deps: { sessions: SessionRepository; standing: CachedSessionStanding },
  ttl: { accessSeconds: number; refreshSeconds: number },
) {
  const { sessions, standing } = deps;
  const accessTokenFor = (user: { id: string; role: Role }, familyId: string) =>
    app.jwt.sign({ sub: user.id, role: user.role, sid: familyId });

  return {
    /**
     * A login or registration: a new refresh family, if `verifiedPasswordHash` (the hash the password
     * was just checked against) is still the user's. A change in between refuses the login.
     */
    async issueForNewLogin(user: { id: string; role: Role }, verifiedPasswordHash: string): Promise<TokenPair> {
      const started = await sessions.startFamily(user.id, ttl.refreshSeconds, verifiedPasswordHash);
      if (started.outcome !== 'started') {
        throw started.outcome === 'disabled' ? new AuthAccountDisabled() : new AuthInvalidCredentials();
      }
      return {
        accessToken: await accessTokenFor(user, started.familyId),
        refreshToken: started.token,
        expiresIn: ttl.accessSeconds,
      };
    },

    /** Rotation: the presented token stops working; a reused one ends its whole family. */
    async rotate(refreshToken: string): Promise<TokenPair> {
      const result = await sessions.rotate(refreshToken);
      // A family ended here takes its access tokens with it.
      if (result.outcome === 'reused' || result.outcome === 'disabled') await standing.forgetUser(result.userId);
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
