// The auth worker's per-account limits on register (per email) and refresh (per token), in the one
// error shape (429 RATE_LIMITED + Retry-After): @fastify/rate-limit's own body has no `code`, so its
// errors come from our catalogue instead. Login is not limited per account (anyone could lock an
// account by naming it): its failures back off per account and address (workers/auth/login-backoff.ts).
// The limits on every route (per account with a valid token, else per address) are the gateway's
// (gateway/pipeline/rate-limit.ts). Counters live in process memory: with several replicas each
// counts on its own (see README).
import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimited } from '../http/errors.ts';

/** Defaults for the routes that ask for a limit (`config.rateLimit`); other routes have none. */
export interface RateLimitOptions {
  max: number;
  windowSeconds: number;
}

export const rateLimitPlugin = fp<RateLimitOptions>(
  async (app, options) => {
    await app.register(rateLimit, {
      global: false,
      max: options.max,
      timeWindow: options.windowSeconds * 1000,
      errorResponseBuilder: (_request, context) => new RateLimited(Math.ceil(context.ttl / 1000)),
    });
  },
  { name: 'poolwise-rate-limits' },
);

/**
 * A per-account key from a JSON body field (the email, or the refresh token), so one account is
 * limited from any address. Hashed: counters never hold credentials.
 */
export function accountKey(field: string) {
  return (request: FastifyRequest) => {
    const value = (request.body as Record<string, unknown> | undefined)?.[field];
    const identity = typeof value === 'string' ? value.trim().toLowerCase() : `ip:${request.ip}`;
    return `account:${field}:${createHash('sha256').update(identity).digest('base64url').slice(0, 22)}`;
  };
}

export interface AuthRouteLimits {
  perAccount: { max: number; timeWindow: number };
}

/** Routes that guess or create credentials: limited harder per address at the gateway (and in the auth worker, see above). */
export const CREDENTIAL_ROUTES = ['/api/v1/auth/register', '/api/v1/auth/login', '/api/v1/auth/refresh'] as const;
const CREDENTIAL_PATHS = new Set<string>(CREDENTIAL_ROUTES);

/** A request to one of them (all POST): public, and limited per address. No string built to ask. */
export const isCredentialRequest = (method: string, path: string) => method === 'POST' && CREDENTIAL_PATHS.has(path);
