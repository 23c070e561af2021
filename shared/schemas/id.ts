// The one definition of an id in a request: a UUID in its canonical, lower-case, hyphenated form.
// Ajv's `format: 'uuid'` alone also accepts upper case and a `urn:uuid:` prefix. Such spellings
// slipped past string comparisons (an admin's self-lockout guard), were cached under keys that updates
// of the canonical id never cleared, and (urn:uuid:) reached PostgreSQL as a 500. PostgreSQL and
// Prisma hand ids back lower-case, so exactly that form is accepted and everything else is a 400.
export const CANONICAL_UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** `format` stays for the OpenAPI document; `pattern` is what makes the spelling canonical. */
export const idSchema = {
  type: 'string',
  format: 'uuid',
  pattern: CANONICAL_UUID_PATTERN,
  description: 'A lower-case UUID, e.g. 3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b',
} as const;

/** `:id` path parameters. */
export const idParamsSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: idSchema },
} as const;
