// A browser app on another origin calling the API, in a real headless Chromium: a page served from
// one port (on CORS_ORIGINS) registers, creates and lists clients through the gateway and reads the
// headers it needs; the same page served from another port is blocked by the browser itself.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../tools/testing/chromium.ts';
import { uniqueEmail } from '../tools/testing/helpers.ts';
import { type RunningSystem, startSystem } from '../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

/** A front end on a port of its own: an empty page is enough, the test runs its script in it. */
const servePage = () =>
  Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () => new Response('<!doctype html><title>front end</title>', { headers: { 'content-type': 'text/html' } }),
  });
const allowedSite = servePage();
const otherSite = servePage();
const ALLOWED_ORIGIN = `http://127.0.0.1:${allowedSite.port}`;

let system: RunningSystem;
let browser: Browser;

beforeAll(async () => {
  system = await startSystem({ CORS_ORIGINS: ALLOWED_ORIGIN });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await system?.close();
  allowedSite.stop(true);
  otherSite.stop(true);
});

/** What the page's own fetch calls saw: statuses and exposed headers, or the browser's refusal. */
type Outcome =
  | { ok: true; steps: { status: number; requestId: string | null; cache?: string | null; names?: string[] }[] }
  | { ok: false; error: string };

async function runBrowserApp(page: Page, api: string, email: string): Promise<Outcome> {
  return page.evaluate(
    async ({ api, email }) => {
      try {
        const json = { 'content-type': 'application/json' };
        const registered = await fetch(`${api}/api/v1/auth/register`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ email, password: 'a long enough password', name: 'Browser' }),
        });
        const { accessToken } = (await registered.json()) as { accessToken: string };
        const auth = { authorization: `Bearer ${accessToken}` };
        const created = await fetch(`${api}/api/v1/clients`, {
          method: 'POST',
          headers: { ...json, ...auth },
          body: JSON.stringify({ name: 'Acme from the browser' }),
        });
        const listed = await fetch(`${api}/api/v1/clients`, { headers: auth });
        const body = (await listed.json()) as { data: { name: string }[] };
        return {
          ok: true as const,
          steps: [
            { status: registered.status, requestId: registered.headers.get('x-request-id') },
            { status: created.status, requestId: created.headers.get('x-request-id') },
            {
              status: listed.status,
              requestId: listed.headers.get('x-request-id'),
              cache: listed.headers.get('x-cache'),
              names: body.data.map((client) => client.name),
            },
          ],
        };
      } catch (error) {
        return { ok: false as const, error: String(error) };
      }
    },
    { api, email },
  );
}

describe('a browser app on another origin', () => {
  test('on CORS_ORIGINS: registers, creates, lists, and reads x-request-id and x-cache', async () => {
    const page = await browser.newPage();
    await page.goto(ALLOWED_ORIGIN);
    const outcome = await runBrowserApp(page, system.gatewayUrl, uniqueEmail('cors'));
    expect(outcome).toMatchObject({
      ok: true,
      steps: [
        { status: 201, requestId: expect.any(String) },
        { status: 201, requestId: expect.any(String) },
        {
          status: 200,
          requestId: expect.any(String),
          cache: expect.stringMatching(/hit|miss|bypass/),
          names: ['Acme from the browser'],
        },
      ],
    });
  }, 30_000);

  test('anywhere else: the browser refuses the call, and nothing is registered', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${otherSite.port}`);
    const email = uniqueEmail('cors-blocked');
    const outcome = await runBrowserApp(page, system.gatewayUrl, email);
    expect(outcome).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
    // The preflight stopped it before the POST was sent: the email is still free.
    const again = await fetch(`${system.gatewayUrl}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'a long enough password', name: 'Later' }),
    });
    expect(again.status).toBe(201);
  }, 30_000);
});
