// The API reference the README links, http://<gateway>/docs, in a real headless Chromium: the gateway
// passes its operations app's 301 (/docs → /docs/) to the browser instead of following it, so the
// page's relative script (js/scalar.js) resolves under /docs/ and the reference renders. Followed on
// the server side, /docs would serve the /docs/ page, ask for /js/scalar.js (a 404) and stay blank.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../tools/testing/chromium.ts';
import { type RunningSystem, startSystem } from '../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let browser: Browser;

beforeAll(async () => {
  system = await startSystem();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await system?.close();
});

describe('/docs', () => {
  test('opened as the README links it, renders every operation of the served document', async () => {
    const document = (await (await fetch(`${system.gatewayUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { summary?: string }>>;
      tags: { name: string }[];
    };
    const summaries = Object.values(document.paths).flatMap((item) =>
      Object.values(item).flatMap((operation) => (operation.summary ? [operation.summary] : [])),
    );
    expect(summaries).toContain("List the caller's clients");

    const page = await browser.newPage();
    const scriptErrors: string[] = [];
    page.on('pageerror', (error) => scriptErrors.push(error.message));
    const failedAssets: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failedAssets.push(`${response.status()} ${response.url()}`);
    });

    await page.goto(`${system.gatewayUrl}/docs`);
    expect(new URL(page.url()).pathname).toBe('/docs/'); // the browser followed the redirect itself
    await page.getByText('Create an account and log in').first().waitFor({ timeout: 15_000 });
    // Operations are grouped by tag, the first group open: open the others as a reader would.
    for (const { name } of document.tags) {
      const closed = page.getByRole('button', { name: `Open Group - ${name}`, exact: true });
      if (await closed.count()) await closed.first().click();
    }
    // biome-ignore lint/performance/useDomNodeTextContent: what is rendered is the point, not the DOM's text
    const text = await page.locator('body').innerText();
    const missing = summaries.filter((summary) => !text.includes(summary));
    expect(missing).toEqual([]);
    expect(failedAssets).toEqual([]);
    expect(scriptErrors).toEqual([]);
  }, 30_000);
});
