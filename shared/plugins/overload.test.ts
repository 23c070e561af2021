import { afterAll, expect, test } from 'bun:test';
import Fastify from 'fastify';
import { installErrorHandling } from '../http/error-handler.ts';
import { registerOverloadProtection } from './overload.ts';

const app = Fastify();
afterAll(() => app.close());

test('a lagging event loop is answered with 503 SERVICE_OVERLOADED and Retry-After, then recovers', async () => {
  installErrorHandling(app);
  // @fastify/under-pressure takes the *mean* event-loop delay of each sample interval (100 ms here). A
  // stall must dominate that mean, so it lasts a second: one 1,000 ms delay among a few 10 ms ones is
  // still far above the 50 ms threshold. The lagging sample stands until the next one, 100 ms on, so
  // it is asked for during about half an interval; a loaded machine (the whole suite in one process)
  // may still miss that window, so the stall is repeated up to three times.
  await registerOverloadProtection(app, 50, 100);
  app.get('/work', async () => ({ ok: true }));
  await app.ready();
  expect((await app.inject({ method: 'GET', url: '/work' })).statusCode).toBe(200);

  let overloaded = await app.inject({ method: 'GET', url: '/work' });
  for (let stall = 0; stall < 3 && overloaded.statusCode !== 503; stall++) {
    const blockUntil = Date.now() + 1_000;
    while (Date.now() < blockUntil) {}
    const askUntil = Date.now() + 60;
    do {
      await Bun.sleep(2);
      overloaded = await app.inject({ method: 'GET', url: '/work' });
    } while (overloaded.statusCode !== 503 && Date.now() < askUntil);
  }
  expect(overloaded.statusCode).toBe(503);
  expect(overloaded.headers['retry-after']).toBe('1');
  expect(overloaded.json()).toMatchObject({ statusCode: 503, code: 'SERVICE_OVERLOADED' });

  let recovered = 0;
  for (let i = 0; i < 100 && recovered !== 200; i++) {
    await Bun.sleep(20);
    recovered = (await app.inject({ method: 'GET', url: '/work' })).statusCode;
  }
  expect(recovered).toBe(200);
});
