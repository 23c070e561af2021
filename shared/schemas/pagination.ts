// Page/limit/search rules shared by every list (and by the gateway's reading of list queries, in
// shared/client-list-query.ts): limit 1..100 (default 20), page >= 1, search up to 100 characters and
// without control characters (none belongs in a search, and the client search's folded copy of a row
// joins its fields with one: see the clients' search_text migration).
export const LIST_LIMITS = { defaultPage: 1, defaultLimit: 20, maxPage: 1_000_000, maxLimit: 100, maxSearch: 100 };

export const paginationProperties = {
  page: { type: 'integer', minimum: 1, maximum: LIST_LIMITS.maxPage, default: LIST_LIMITS.defaultPage },
  limit: { type: 'integer', minimum: 1, maximum: LIST_LIMITS.maxLimit, default: LIST_LIMITS.defaultLimit },
} as const;

export const searchProperty = {
  type: 'string',
  maxLength: LIST_LIMITS.maxSearch,
  pattern: '^[^\\u0000-\\u001f\\u007f]*$',
  description: 'Up to 100 characters, no control characters',
} as const;

/** The same rule for code that reads a search without the schema (the gateway's edge). */
const ALLOWED_SEARCH = new RegExp(searchProperty.pattern, 'u');

export const isAllowedSearch = (search: string) =>
  search.length <= LIST_LIMITS.maxSearch && ALLOWED_SEARCH.test(search);

export const pageMetaSchema = {
  type: 'object',
  required: ['page', 'limit', 'total', 'totalPages'],
  properties: {
    page: { type: 'integer' },
    limit: { type: 'integer' },
    total: { type: 'integer' },
    totalPages: { type: 'integer' },
  },
} as const;

export function pageMeta(page: number, limit: number, total: number) {
  return { page, limit, total, totalPages: Math.ceil(total / limit) };
}
