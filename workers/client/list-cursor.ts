// The client list's `after` cursor: where the previous page ended, in that page's sort. Opaque to
// callers (base64url of JSON), decoded strictly here: a cursor we did not write, or one written for
// another sort, is a 400 VALIDATION_FAILED, and what it holds only ever reaches SQL as bind parameters.
// It carries a position, never an owner or a filter: the owner always comes from the token, and the
// filters from the request, so a cursor cannot widen what a caller sees.
import type { ClientSort } from '../../shared/client-list-query.ts';
import { ValidationFailed } from '../../shared/http/errors.ts';

/** The last row of a page: its sort key (an ISO timestamp, or the name) and its id, the tie-breaker. */
export interface ListPosition {
  value: string;
  id: string;
}

const CURSOR_VERSION = 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Exactly what the list writes (Date#toISOString), so PostgreSQL never sees a date it refuses. */
const isIsoTimestamp = (value: unknown) =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;

export function encodeListCursor(sort: ClientSort, row: { id: string; name: string; createdAt: string }): string {
  const value = sort.endsWith('name') ? row.name : row.createdAt;
  return Buffer.from(JSON.stringify([CURSOR_VERSION, sort, value, row.id])).toString('base64url');
}

export function decodeListCursor(cursor: string, sort: ClientSort): ListPosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationFailed('after: not a cursor this API wrote (take meta.next of the previous page)');
  }
  if (!Array.isArray(decoded) || decoded.length !== 4 || decoded[0] !== CURSOR_VERSION) {
    throw new ValidationFailed('after: not a cursor this API wrote (take meta.next of the previous page)');
  }
  const [, cursorSort, value, id] = decoded as unknown[];
  if (cursorSort !== sort) {
    throw new ValidationFailed(`after: this cursor continues sort=${String(cursorSort)}; send that sort with it`);
  }
  const valueFits = sort.endsWith('name') ? typeof value === 'string' : isIsoTimestamp(value);
  if (!valueFits || typeof id !== 'string' || !UUID.test(id)) {
    throw new ValidationFailed('after: not a cursor this API wrote (take meta.next of the previous page)');
  }
  return { value: value as string, id };
}
