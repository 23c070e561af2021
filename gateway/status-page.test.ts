// The /status page in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
// it loads without console errors and shows each service's pool mode.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { REPOSITORY_ROOT } from '../shared/env.ts';
import { collectPageProblems, launchChromium } from '../tools/testing/chromium.ts';
import { type RunningSystem, startSystem } from '../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

let system: RunningSystem;
let browser: Browser;

beforeAll(async () => {
  system = await startSystem({ DB_CONNECTION_BUDGET: '20' });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await system?.close();
});

describe('/status page', () => {
  test('loads without console errors and shows every service’s mode, pool and the budget bar', async () => {
    const page = await browser.newPage();
    const problems = collectPageProblems(page);

    await page.goto(`${system.gatewayUrl}/status`);
    await page.waitForSelector('[data-service="client"] [data-field="mode"]');
    for (const service of ['auth', 'user', 'client']) {
      const card = page.locator(`[data-service="${service}"]`);
      expect(await card.locator('[data-field="mode"]').textContent()).toBe('transaction');
      expect(await card.locator('[data-field="pool-size"]').textContent()).toBe('2');
      expect(await card.locator('[data-field="pool-usage"]').textContent()).toMatch(
        /\d+ open · \d+ idle · \d+ waiting/,
      );
    }
    expect(await page.locator('#budget-text').textContent()).toBe('6 pooled + 3 headroom of 20 (DB_CONNECTION_BUDGET)');

    // It refreshes itself: the "updated" line changes without a reload.
    const before = await page.locator('#updated').textContent();
    await page.waitForFunction(`document.getElementById('updated')?.textContent !== ${JSON.stringify(before)}`, null, {
      timeout: 5_000,
    });

    mkdirSync(join(REPOSITORY_ROOT, '.data'), { recursive: true });
    await page.screenshot({ path: join(REPOSITORY_ROOT, '.data', 'status-page.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 30_000);
});
