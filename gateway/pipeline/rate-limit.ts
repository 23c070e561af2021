// Stage: per-address limits (429 RATE_LIMITED + Retry-After). Every request counts against
// RATE_LIMIT_MAX; the credential routes (register, login, refresh) also against AUTH_RATE_LIMIT_MAX.
// With several gateways, each enforces its share (max / GATEWAY_REPLICAS, rounded up): a client
// spread evenly by the balancer in front meets the configured limit in total, and Redis stays a
// cache (no shared counter to lose). A client pinned to one gateway gets only that share.
import { RateLimited } from '../../shared/http/errors.ts';
import { CREDENTIAL_ROUTES } from '../../shared/plugins/rate-limits.ts';
import { AddressRateLimiter } from './address-rate-limiter.ts';
import { errorResponse, type Stage } from './pipeline.ts';

export interface RateLimitSettings {
  max: number;
  credentialMax: number;
  windowSeconds: number;
  gatewayReplicas: number;
}

const CREDENTIAL_PATHS = new Set<string>(CREDENTIAL_ROUTES);

/** This gateway's share of a limit enforced across `gateways` gateways. */
export const shareOf = (max: number, gateways: number) => Math.max(1, Math.ceil(max / gateways));

export function rateLimitStage(settings: RateLimitSettings): Stage {
  const windowMs = settings.windowSeconds * 1000;
  const general = new AddressRateLimiter(shareOf(settings.max, settings.gatewayReplicas), windowMs);
  const credential = new AddressRateLimiter(shareOf(settings.credentialMax, settings.gatewayReplicas), windowMs);
  return {
    name: 'rate-limit',
    handle(context) {
      const isCredential = context.request.method === 'POST' && CREDENTIAL_PATHS.has(context.url.pathname);
      const limited =
        (isCredential ? credential.take(context.clientKey) : undefined) ?? general.take(context.clientKey);
      if (!limited) return undefined;
      return errorResponse(new RateLimited(limited.retryAfterSeconds), context.requestId, limited.retryAfterSeconds);
    },
  };
}
