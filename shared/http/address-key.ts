// The key a per-address limit counts under, shared by the gateway's limits (gateway/pipeline/) and
// the auth worker's failed-login back-off (workers/auth/login-backoff.ts).
import { isIPv6 } from 'node:net';

/**
 * IPv4 addresses as they are; IPv6 clients by their /64: anyone holding one /64 (the usual smallest
 * allocation) could otherwise rotate through 2^64 buckets.
 */
export function addressLimitKey(address: string): string {
  // No colon, no IPv6: an IPv4 address (most requests) skips isIPv6's large pattern (1 % of the
  // gateway's own time on a page answered at the edge, tools/bench/pipeline-cost.ts under --cpu-prof).
  if (!address.includes(':')) return address;
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
