// Stage: who the client is. Behind TRUST_PROXY_HOPS proxies (an ingress, a cloud load balancer) the
// socket address is the last proxy's, so the client is read from X-Forwarded-For, counting that many
// entries from the right; entries further left are whatever the client wrote and are not trusted.
import { addressLimitKey } from '../../shared/http/address-key.ts';
import type { Stage } from './pipeline.ts';

/** The client address given the socket address, the X-Forwarded-For chain and the trusted hop count. */
export function clientAddressFrom(socketAddress: string, forwardedFor: string | null, trustedHops: number): string {
  if (trustedHops === 0 || !forwardedFor) return socketAddress;
  const chain = [
    ...forwardedFor
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
    socketAddress,
  ];
  return chain[Math.max(0, chain.length - 1 - trustedHops)] as string;
}

export function clientAddressStage(trustedHops: number): Stage {
  return {
    name: 'client-address',
    handle(context) {
      const socketAddress = context.server.requestIP(context.request)?.address ?? 'unknown';
      context.socketAddress = socketAddress;
      context.clientAddress = clientAddressFrom(
        socketAddress,
        context.request.headers.get('x-forwarded-for'),
        trustedHops,
      );
      // IPv6 clients count per /64 (shared/http/address-key.ts).
      context.clientKey = addressLimitKey(context.clientAddress);
      return undefined;
    },
  };
}
