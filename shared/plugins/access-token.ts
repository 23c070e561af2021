// Access-token verification (every service) and signing (auth worker only, when given the private key).
// The algorithm is pinned to EdDSA and iss/aud/exp are required, so `alg: none`, HS/EdDSA key
// confusion and tokens minted for another audience are all rejected.
//
// Why a session check after the signature: a signature stays valid until the token expires (up to
// 15 minutes), but logout, a password change, disabling the user or a refresh-token reuse end the
// session at once. Every worker asks whether the token's session (`sid`) is still live, through the
// cache (shared/repositories/cached-session-standing.ts), so those reach tokens already issued.
import fastifyJwt from '@fastify/jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AuthRequired, AuthSessionRevoked, AuthTokenInvalid } from '../http/errors.ts';
import type { JwtKeys } from '../jwt-keys.ts';
import { CANONICAL_UUID_PATTERN } from '../schemas/id.ts';

export type Role = 'USER' | 'ADMIN';

export interface AccessTokenClaims {
  sub: string;
  role: Role;
  /** The refresh-token family (login session) this token was issued in: what logout revokes. */
  sid: string;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims;
    user: AccessTokenClaims;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * onRequest hook for protected scopes: 401 in the error shape unless a valid Bearer token of a live
     * session is sent.
     */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /** The signature alone, whether or not the session has ended: only for logout, so it stays idempotent. */
    authenticateSignature(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  }
}

export interface AccessTokenPluginOptions {
  keys: JwtKeys;
  issuer: string;
  audience: string;
  /** Seconds; at most 15 minutes by configuration schema. */
  ttlSeconds: number;
  /** Whether the session `sid` of user `sub` may still use its access tokens (checked after the signature). */
  isSessionLive(userId: string, sessionId: string): Promise<boolean>;
}

const CANONICAL_UUID = new RegExp(CANONICAL_UUID_PATTERN);

export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';

/**
 * The verification rules every verifier uses (the workers' @fastify/jwt and the gateway's front
 * door): algorithm pinned, iss/aud/exp/sub/sid required, verified tokens remembered until they expire
 * (signature checks dominate a cached read).
 */
export function accessTokenVerifyRules(issuer: string, audience: string) {
  return {
    algorithms: [ACCESS_TOKEN_ALGORITHM] as 'EdDSA'[],
    allowedIss: issuer,
    allowedAud: audience,
    // Every token the auth worker signs names its session; one without could not be revoked.
    requiredClaims: ['sub', 'sid', 'exp', 'iss', 'aud'],
    // Verified tokens remembered (LRU). fast-jwt's default (`true`) keeps 1,000: past 1,000 users
    // active at once every check is a signature again. Measured on a slow machine, 2,000 tokens
    // checked in turn: 158 µs a check with 1,000 entries, 10.5 µs with 10,000; 10,000 entries hold
    // about 3.5 MB of heap.
    cache: 10_000,
  };
}

export const accessTokenPlugin = fp<AccessTokenPluginOptions>(
  async (app, options) => {
    await app.register(fastifyJwt, {
      secret: { public: options.keys.publicKey, private: options.keys.privateKey },
      sign: {
        algorithm: ACCESS_TOKEN_ALGORITHM,
        iss: options.issuer,
        aud: options.audience,
        // A string with its unit: a bare number here has meant seconds in one library and milliseconds in another.
        expiresIn: `${options.ttlSeconds}s`,
      },
      verify: accessTokenVerifyRules(options.issuer, options.audience),
    });
    const verifySignature = async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      if (!header || !/^Bearer\s+\S+$/i.test(header)) throw new AuthRequired();
      try {
        await request.jwtVerify();
      } catch (error) {
        request.log.info({ reason: (error as Error).message }, 'access token rejected');
        throw new AuthTokenInvalid();
      }
      const { sub, sid } = request.user;
      // Signed by the auth worker, so always canonical; checked anyway, since both reach a uuid column.
      if (!CANONICAL_UUID.test(sub) || !CANONICAL_UUID.test(sid)) throw new AuthTokenInvalid();
    };
    app.decorate('authenticateSignature', verifySignature);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      await verifySignature(request);
      if (!(await options.isSessionLive(request.user.sub, request.user.sid))) throw new AuthSessionRevoked();
    });
  },
  { name: 'poolwise-access-token' },
);
