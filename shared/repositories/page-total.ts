/**
 * A page that is not full is the last one, so the total is known without counting; only a full
 * page (or one past the end) needs the second query. Most owners fit on one page.
 */
export async function totalFor(
  rowsOnPage: number,
  skipped: number,
  limit: number,
  count: () => Promise<number>,
): Promise<number> {
  if (rowsOnPage > 0 && rowsOnPage < limit) return skipped + rowsOnPage;
  if (rowsOnPage === 0 && skipped === 0) return 0;
  return count();
}
