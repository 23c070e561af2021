// Stage: who the client is. Behind TRUST_PROXY_HOPS proxies (an ingress, a cloud load balancer) the
// socket address is the last proxy's, so the client is read from X-Forwarded-For, counting that many
// entries from the right; entries further left are whatever the client wrote and are not trusted.
import { isIPv6 } from 'node:net';
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

/**
 * The key per-address limits count under. IPv6 clients are keyed by their /64: anyone holding one
 * /64 (the usual smallest allocation) could otherwise rotate through 2^64 buckets.
 */
export function rateLimitKeyFor(address: string): string {
  const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ''); // IPv4-mapped: the IPv4 address
  if (!isIPv6(plain)) return plain;
  const [head = '', tail = ''] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = plain.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group || '0', 16).toString(16))
    .join(':')}::/64`;
}

export function clientAddressStage(trustedHops: number): Stage {
  return {
    name: 'client-address',
    handle(context) {
      const socketAddress = context.server.requestIP(context.request)?.address ?? 'unknown';
      context.clientAddress = clientAddressFrom(
        socketAddress,
        context.request.headers.get('x-forwarded-for'),
        trustedHops,
      );
      context.clientKey = rateLimitKeyFor(context.clientAddress);
      return undefined;
    },
  };
}
