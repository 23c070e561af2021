// The client list's query parameters and answer in one place: the client worker validates them with
// its route schema, caches pages under clientListCacheField() and answers clientListMeta(); the
// gateway's edge-cache stage recognises the same canonical queries (parseCanonicalClientListQuery) to
// answer cache hits without a second hop, with the same meta.
import { isAllowedSearch, LIST_LIMITS } from './schemas/pagination.ts';

export const CLIENT_SORTS = ['createdAt', '-createdAt', 'name', '-name'] as const;
export type ClientSort = (typeof CLIENT_SORTS)[number];
export const CLIENT_STATUSES = ['ACTIVE', 'INACTIVE', 'LEAD'] as const;
export type ClientStatus = (typeof CLIENT_STATUSES)[number];

export const CLIENT_LIST_DEFAULT_SORT: ClientSort = '-createdAt';

export interface ClientListParams {
  page: number;
  limit: number;
  sort: ClientSort;
  status?: ClientStatus;
  search?: string;
  /** The opaque keyset cursor (meta.next of the page before); `page` is then not used. */
  after?: string;
}

/** A page as the worker computes and caches it, and as the edge reads it from the cache. */
export interface ClientListPage<Row = unknown> {
  rows: Row[];
  total: number;
  /** Present (true) when not every match was counted: `total` is then "at least". */
  totalIsLowerBound?: true;
  /** Present when another page follows: the `after` cursor that continues after this page. */
  next?: string;
}

export const clientListMetaSchema = {
  type: 'object',
  required: ['limit', 'total', 'totalPages'],
  properties: {
    page: { type: 'integer', description: 'The page asked for; absent when the page was asked for with `after`' },
    limit: { type: 'integer' },
    total: {
      type: 'integer',
      description:
        'Matching clients. Exact without a filter. With `search` or `status` on an owner of more than 2,000 clients, the matches are not counted: `total` is the rows up to this page (plus one when another follows), exact on the last page and otherwise a lower bound (see `totalIsLowerBound`)',
    },
    totalPages: { type: 'integer', description: 'ceil(total / limit), so a lower bound too when the total is' },
    totalIsLowerBound: {
      type: 'boolean',
      enum: [true],
      description:
        'Present (true) when the matches were not all counted (a filter on an owner of more than 2,000 clients, before its last page): `total` means "at least"',
    },
    next: {
      type: 'string',
      description: 'Present when another page follows: send it as `after` (with the same sort and filters) to get it',
    },
  },
} as const;

/** The answer's meta: the same from the worker and from the gateway's edge. */
export function clientListMeta(params: Pick<ClientListParams, 'page' | 'limit' | 'after'>, page: ClientListPage) {
  const totalPages = Math.ceil(page.total / params.limit);
  return {
    ...(params.after ? {} : { page: params.page }),
    limit: params.limit,
    total: page.total,
    totalPages,
    ...(page.totalIsLowerBound ? { totalIsLowerBound: true as const } : {}),
    ...(page.next ? { next: page.next } : {}),
  };
}

/**
 * Same query, same cache field: parameters in a fixed order, absent ones as null, and the search
 * folded to one case (the search is case-insensitive, so "ACME" and "acme" find the same rows and
 * share one entry). Only A-Z are folded: PostgreSQL's ILIKE folds them the same way in every
 * locale this runs with, while other letters' folding depends on the database's locale (two searches
 * that JavaScript would fold together might not match the same rows). Worker and gateway both key
 * through here, so they always agree.
 */
export function clientListCacheField(params: ClientListParams): string {
  const search = params.search?.replace(/[A-Z]+/g, (letters) => letters.toLowerCase()) ?? null;
  const field = [params.page, params.limit, params.sort, params.status ?? null, search];
  // A cursor is exact bytes: never folded. Plain page queries keep their field as it was.
  if (params.after) field.push(params.after);
  return JSON.stringify(field);
}

const CANONICAL_NUMBER = /^[1-9]\d{0,6}$/;
// `after` (a cursor) is left out on purpose: cursor pages are always forwarded, and cached only by the
// worker, under a field that carries the cursor.
const KNOWN = new Set(['page', 'limit', 'sort', 'status', 'search']);

/**
 * The parameters as the worker would read them, for queries written plainly; undefined for anything
 * else (unknown or repeated parameters, out-of-range values, `ownerId`), which the worker then
 * validates and answers itself. Returning undefined is always safe: it only means "forward".
 */
export function parseCanonicalClientListQuery(query: URLSearchParams): ClientListParams | undefined {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!KNOWN.has(key) || seen.has(key)) return undefined;
    seen.add(key);
  }
  const number = (name: 'page' | 'limit', fallback: number, max: number) => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    if (!CANONICAL_NUMBER.test(raw)) return undefined;
    const value = Number(raw);
    return value <= max ? value : undefined;
  };
  const page = number('page', LIST_LIMITS.defaultPage, LIST_LIMITS.maxPage);
  const limit = number('limit', LIST_LIMITS.defaultLimit, LIST_LIMITS.maxLimit);
  const sort = query.get('sort') ?? CLIENT_LIST_DEFAULT_SORT;
  const status = query.get('status') ?? undefined;
  const rawSearch = query.get('search');
  if (page === undefined || limit === undefined) return undefined;
  if (!(CLIENT_SORTS as readonly string[]).includes(sort)) return undefined;
  if (status !== undefined && !(CLIENT_STATUSES as readonly string[]).includes(status)) return undefined;
  if (rawSearch !== null && !isAllowedSearch(rawSearch)) return undefined;
  return {
    page,
    limit,
    sort: sort as ClientSort,
    status: status as ClientStatus | undefined,
    search: rawSearch?.trim() || undefined,
  };
}
