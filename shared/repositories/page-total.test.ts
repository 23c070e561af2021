import { expect, test } from 'bun:test';
import { totalFor } from './page-total.ts';

test('the total is counted only when the page alone cannot tell it', async () => {
  let counted = 0;
  const count = async () => {
    counted++;
    return 99;
  };
  expect(await totalFor(7, 0, 20, count)).toBe(7); // one partial page
  expect(await totalFor(3, 40, 20, count)).toBe(43); // the last, partial page
  expect(await totalFor(0, 0, 20, count)).toBe(0); // nothing at all
  expect(counted).toBe(0);
  expect(await totalFor(20, 0, 20, count)).toBe(99); // a full page: there may be more
  expect(await totalFor(0, 60, 20, count)).toBe(99); // past the end
  expect(counted).toBe(2);
});
