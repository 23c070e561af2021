// The page-mark rebuilder's bookkeeping (page-marks.ts), with builds that are plain functions: one build
// at a time per owner and order, a cool-down between asks, a longer wait after a build that failed, and
// the page that asked never waits or fails. The builds themselves run against PostgreSQL in
// page-marks.test.ts.
import { expect, test } from 'bun:test';
import { createMarksRebuilder } from './page-marks.ts';

test('one build at a time in a process, then none for that owner and order until the cool-down has passed', async () => {
  const builds: string[] = [];
  const waiting: (() => void)[] = [];
  const finish = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };
  const rebuilder = createMarksRebuilder(
    async (ownerId, order) => {
      builds.push(`${ownerId} ${order}`);
      await new Promise<void>((resolve) => waiting.push(resolve));
      return true;
    },
    () => {},
    50,
  );
  rebuilder.request('a', 'name');
  rebuilder.request('a', 'name'); // in flight: not asked again
  rebuilder.request('a', 'createdAt'); // one build at a time in a process: not taken now
  expect(builds).toEqual(['a name']);
  finish();
  await rebuilder.settled();
  rebuilder.request('a', 'createdAt'); // asked again once the first is done: taken
  rebuilder.request('a', 'name'); // within its cool-down (and one is running)
  expect(builds).toEqual(['a name', 'a createdAt']);
  finish();
  await rebuilder.settled();
  await Bun.sleep(60);
  rebuilder.request('a', 'name');
  expect(builds).toEqual(['a name', 'a createdAt', 'a name']);
  finish();
  await rebuilder.settled();
});

test('a failed build is reported, never thrown at the page, and not tried again for the longer back-off', async () => {
  const errors: unknown[] = [];
  let tries = 0;
  const rebuilder = createMarksRebuilder(
    async () => {
      tries++;
      throw new Error('canceling statement due to statement timeout');
    },
    (error) => errors.push(error),
    10,
    200,
  );
  rebuilder.request('big', 'createdAt');
  await rebuilder.settled();
  expect(tries).toBe(1);
  expect(errors).toHaveLength(1);
  await Bun.sleep(30); // past the cool-down, not past the back-off
  rebuilder.request('big', 'createdAt');
  expect(tries).toBe(1);
  await Bun.sleep(200);
  rebuilder.request('big', 'createdAt');
  await rebuilder.settled();
  expect(tries).toBe(2);
});
