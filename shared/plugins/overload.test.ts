import { afterAll, expect, test } from 'bun:test';
import Fastify from 'fastify';
import { installErrorHandling } from '../http/error-handler.ts';
import { registerOverloadProtection } from './overload.ts';

const app = Fastify();
afterAll(() => app.close());

test('a lagging event loop is answered with 503 SERVICE_OVERLOADED and Retry-After, then recovers', async () => {
  installErrorHandling(app);
  // Sampled every 100 ms: a lagging sample then stands for 100 ms, long enough to be seen by a request
  // even on a loaded CI machine (at 10 ms, a calm sample sometimes replaced it before any request ran).
  await registerOverloadProtection(app, 50, 100);
  app.get('/work', async () => ({ ok: true }));
  await app.ready();
  expect((await app.inject({ method: 'GET', url: '/work' })).statusCode).toBe(200);

  // Stall the event loop for 300 ms, then ask for about half a sample interval: the first sample after
  // the stall reports it until the next one. A loaded machine (the whole suite in one process) can
  // still miss that window now and then, so the stall is repeated a few times before giving up.
  let overloaded = await app.inject({ method: 'GET', url: '/work' });
  for (let stall = 0; stall < 5 && overloaded.statusCode !== 503; stall++) {
    const blockUntil = Date.now() + 300;
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
