/**
 * Prisma's `contains` wraps the text in `%...%` but does not escape LIKE's own wildcards, so a search
 * for "%" or "_" would match everything. Escape them (PostgreSQL's default escape is the backslash).
 */
export function escapeLikeWildcards(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
