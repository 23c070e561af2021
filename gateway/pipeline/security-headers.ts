// Stage: the security headers @fastify/helmet would send, on every answer of the public port (API,
// operations pages, errors). The pipeline is not Fastify, so helmet cannot run here; these are its
// defaults that matter for a JSON API and its two HTML pages (docs, status), with frames denied
// outright rather than allowed from the same origin. No script-src policy: the docs page needs its
// bundle, and JSON answers run no script anyway (nosniff keeps browsers from guessing otherwise).
import type { Stage } from './pipeline.ts';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-dns-prefetch-control': 'off',
};

/** A year, subdomains included: helmet's default. Sent only in production, where TLS ends in front of us. */
export const HSTS = 'max-age=31536000; includeSubDomains';

const SECURITY_HEADER_ENTRIES = Object.entries(SECURITY_HEADERS);

export function securityHeadersStage(options: { production: boolean }): Stage {
  return {
    name: 'security-headers',
    standingHeaders: options.production ? { ...SECURITY_HEADERS, 'strict-transport-security': HSTS } : SECURITY_HEADERS,
    handle: () => undefined,
    finish(_context, response, prepared) {
      if (prepared) return; // built on them (pipeline.ts)
      const { headers } = response;
      for (const [name, value] of SECURITY_HEADER_ENTRIES) {
        // A page that states its own policy keeps it.
        if (!headers.has(name)) headers.set(name, value);
      }
      if (options.production) headers.set('strict-transport-security', HSTS);
    },
  };
}
