// Stage: who the client is. Behind TRUST_PROXY_HOPS proxies (an ingress, a cloud load balancer) the
// socket address is the last proxy's, so the client is read from X-Forwarded-For, counting that many
// entries from the right; entries further left are whatever the client wrote and are not trusted.
import { addressLimitKey } from '../../shared/http/address-key.ts';
import type { Stage } from './pipeline.ts';

/**
 * The client address given the socket address, the X-Forwarded-For chain and the trusted hop count.
 * The socket address is asked for only when it is the answer: behind a trusted proxy that sent
 * X-Forwarded-For it never is (the socket is the proxy's), and reading it costs a getpeername system
 * call per request (`server.requestIP`; `strace -c` showed one for every request). Forwarding reads
 * it anyway, for the chain it passes on (forward.ts), so this saves it where the gateway answers itself.
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

export function clientAddressStage(trustedHops: number): Stage {
  return {
    name: 'client-address',
    handle(context) {
      const socketAddress = () => {
        // Read once: forward.ts reuses it.
        context.socketAddress ??= context.server.requestIP(context.request)?.address ?? 'unknown';
        return context.socketAddress;
      };
      context.clientAddress = clientAddressFrom(
        socketAddress,
        trustedHops > 0 ? context.request.headers.get('x-forwarded-for') : null,
        trustedHops,
      );
      // IPv6 clients count per /64 (shared/http/address-key.ts).
      context.clientKey = addressLimitKey(context.clientAddress);
      return undefined;
    },
  };
}
