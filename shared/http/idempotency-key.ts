// The Idempotency-Key request header (IETF httpapi draft-ietf-httpapi-idempotency-key-header): what a
// valid key is, how it is documented in a route's schema, and the fingerprint of the request body a
// key is bound to. The store that gives a key its meaning is shared/repositories/idempotent-writes.ts.
//
// The draft makes the field an RFC 8941 String, `Idempotency-Key: "8e03978e-…"`; most clients in the
// wild (Stripe's included) send the bare value. Both are accepted and mean the same key. A key is 1 to
// 255 printable ASCII characters without `"` or `\` (so a quoted key never needs escapes); a bare key
// also has no spaces or commas, because two Idempotency-Key fields (which the draft forbids) reach us
// joined by ", " and must not pass for one key.
import { createHash } from 'node:crypto';
import { ValidationFailed } from './errors.ts';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Set to "true" on an answer that is the stored first answer, not a new write. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

const QUOTED_KEY = `"[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}"`;
const BARE_KEY = `[\\x21\\x23-\\x2B\\x2D-\\x5B\\x5D-\\x7E]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}`;
const KEY_PATTERN = `^(?:${QUOTED_KEY}|${BARE_KEY})$`;
const keyPattern = new RegExp(KEY_PATTERN, 'u');

/** The header's JSON schema, for a route's `schema.headers` (validation and the OpenAPI document). */
export function idempotencyKeyHeaderSchema(expiryHours: number) {
  return {
    type: 'object',
    properties: {
      [IDEMPOTENCY_KEY_HEADER]: {
        type: 'string',
        pattern: KEY_PATTERN,
        description:
          'Optional. Makes a retry of this create safe (IETF draft-ietf-httpapi-idempotency-key-header). ' +
          `1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters without " or \\, quoted as the draft ` +
          'writes it ("8e03978e-40d5-43e8-bc93-6894a57f9324") or bare (no spaces or commas then); a random UUID is ' +
          'a good key. Scoped to the caller and this route. The same key with the same body answers the first ' +
          `answer again, with header ${IDEMPOTENT_REPLAYED_HEADER}: true, and writes nothing; with another body it ` +
          'is a 422 IDEMPOTENCY_KEY_REUSED. A duplicate sent while the first is still being written waits for it ' +
          'and then replays it, or after a short wait answers 409 IDEMPOTENCY_KEY_IN_PROGRESS with Retry-After. ' +
          `Keys expire ${expiryHours} hours after the first request; an expired key may be used again. A request ` +
          'that failed (4xx before the write, 5xx) stores nothing, so retrying it with the same key performs it.',
      },
    },
  } as const;
}

/** The key of a request, without the quotes of the draft's form; undefined when there is no header. */
export function readIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !keyPattern.test(value)) {
    throw new ValidationFailed(
      `headers/${IDEMPOTENCY_KEY_HEADER} must be one key of 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters`,
    );
  }
  return value.startsWith('"') ? value.slice(1, -1) : value;
}

/** JSON with every object's keys sorted: bodies that differ only in key order or spacing are one request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * SHA-256 (hex) of the canonical JSON of a parsed request body: what a key is bound to. Only the hash
 * is stored, never the body.
 */
export function fingerprintRequestBody(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}
