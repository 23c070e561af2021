import { expect, test } from 'bun:test';
import { escapeLikeWildcards } from './like-pattern.ts';

test('LIKE wildcards and the escape character are escaped; other text is untouched', () => {
  expect(escapeLikeWildcards('100%_off\\')).toBe('100\\%\\_off\\\\');
  expect(escapeLikeWildcards('Acme Ltd.')).toBe('Acme Ltd.');
});
