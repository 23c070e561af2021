// Stage: per-caller limits (429 RATE_LIMITED + Retry-After). Every request counts against
// RATE_LIMIT_MAX: a request with a valid access token against its account (the token's subject), from
// whatever address it comes; any other request against its client address. The credential routes
// (register, login, refresh) count per address only, and also against AUTH_RATE_LIMIT_MAX.
//
// Why by account when there is one, as GitHub's and Stripe's APIs limit: users behind one NAT or
// office proxy no longer share a limit, a user's devices do, and a page answered at the edge never
// reads the socket's address (a getpeername system call per request: 3-4 % of an edge hit's
// throughput, tools/bench/edge-pair.ts against the code before). The price: a request is counted
// only after its token is checked, so a flood of forged tokens from one address pays a signature
// check (about 50 µs) before its 429; a flood without a token is refused as cheaply as before.
//
// With several gateways, each enforces its share (max / GATEWAY_REPLICAS, rounded up): a client
// spread evenly by the balancer in front meets the configured limit in total, and Redis stays a
// cache (no shared counter to lose). A client pinned to one gateway gets only that share.
import { addressLimitKey } from '../../shared/http/address-key.ts';
import { RateLimited } from '../../shared/http/errors.ts';
import { isCredentialRequest } from '../../shared/plugins/rate-limits.ts';
import type { ClientAddressOf } from './client-address.ts';
import { FixedWindowLimiter } from './fixed-window-limiter.ts';
import { errorResponse, type GatewayRequest, type Stage } from './pipeline.ts';
import type { AccessTokenOf } from './token-check.ts';

export interface RateLimitSettings {
  max: number;
  credentialMax: number;
  windowSeconds: number;
  gatewayReplicas: number;
}

/** How the stage tells callers apart (client-address.ts, token-check.ts). */
export interface Callers {
  clientAddressOf: ClientAddressOf;
  accessTokenOf: AccessTokenOf;
}

/** This gateway's share of a limit enforced across `gateways` gateways. */
export const shareOf = (max: number, gateways: number) => Math.max(1, Math.ceil(max / gateways));

export function rateLimitStage(settings: RateLimitSettings, callers: Callers): Stage {
  const windowMs = settings.windowSeconds * 1000;
  const share = shareOf(settings.max, settings.gatewayReplicas);
  // Accounts and addresses counted apart: neither kind of key can land on the other's counter.
  const perAddress = new FixedWindowLimiter(share, windowMs);
  const perAccount = new FixedWindowLimiter(share, windowMs);
  const credential = new FixedWindowLimiter(shareOf(settings.credentialMax, settings.gatewayReplicas), windowMs);
  const addressKey = (context: GatewayRequest) => addressLimitKey(callers.clientAddressOf(context));
  return {
    name: 'rate-limit',
    handle(context) {
      let limited: { retryAfterSeconds: number } | undefined;
      if (isCredentialRequest(context.request.method, context.url.pathname)) {
        const key = addressKey(context);
        limited = credential.take(key) ?? perAddress.take(key);
      } else if (callers.accessTokenOf(context) === 'valid') {
        limited = perAccount.take(context.subject as string);
      } else {
        limited = perAddress.take(addressKey(context));
      }
      if (!limited) return undefined;
      return errorResponse(new RateLimited(limited.retryAfterSeconds), context.requestId, limited.retryAfterSeconds);
    },
  };
}
