// Who the client is, by address. Behind TRUST_PROXY_HOPS proxies (an ingress, a cloud load balancer)
// the socket address is the last proxy's, so the client is read from X-Forwarded-For, counting that
// many entries from the right; entries further left are whatever the client wrote and are not trusted.
//
// Read on demand, not by a stage of its own: reading the socket's address costs a getpeername system
// call per request (`server.requestIP`; `strace -c` showed one for every request), and a request that
// carries a valid access token is limited by its account (rate-limit.ts), so a page answered at the
// edge never needs it. Forwarding reads the socket anyway, for the chain it passes on (forward.ts).
import type { GatewayRequest } from './pipeline.ts';

/**
 * The client address given the socket address, the X-Forwarded-For chain and the trusted hop count.
 * The socket address is asked for only when it is the answer: behind a trusted proxy that sent
 * X-Forwarded-For it never is (the socket is the proxy's).
 */
export function clientAddressFrom(
  socketAddress: () => string,
  forwardedFor: string | null,
  trustedHops: number,
): string {
  if (trustedHops === 0 || !forwardedFor) return socketAddress();
  const entries = forwardedFor
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  // The chain is the entries and then the socket; counting trustedHops (at least 1) from its right
  // end always lands on an entry, the leftmost one when there are fewer than trustedHops.
  if (entries.length === 0) return socketAddress();
  return entries[Math.max(0, entries.length - trustedHops)] as string;
}

/** The socket's peer, read at most once per request (forward.ts reuses it). */
export function socketAddressOf(context: GatewayRequest): string {
  context.socketAddress ??= context.server.requestIP(context.request)?.address ?? 'unknown';
  return context.socketAddress;
}

export type ClientAddressOf = (context: GatewayRequest) => string;

/** The client's address for a request, worked out on first use and kept on the request (one reader per pipeline: app.ts). */
export function clientAddressReader(trustedHops: number): ClientAddressOf {
  return (context) => {
    context.clientAddress ??= clientAddressFrom(
      () => socketAddressOf(context),
      trustedHops > 0 ? context.request.headers.get('x-forwarded-for') : null,
      trustedHops,
    );
    return context.clientAddress;
  };
}
