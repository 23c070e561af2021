// The /status page in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
// it loads without console errors and shows each service's pool mode.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { REPOSITORY_ROOT } from '../shared/env.ts';
import { type RunningSystem, startSystem } from '../tools/testing/running-system.ts';
import { STACK_START_TIMEOUT_MS, useTestStack } from '../tools/testing/test-stack.ts';

beforeAll(useTestStack, STACK_START_TIMEOUT_MS);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let system: RunningSystem;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium (or set CHROMIUM_PATH)`);
  system = await startSystem({ DB_CONNECTION_BUDGET: '20' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Flags for a closed network and root: no sandbox, no background calls home.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await system?.close();
});

describe('/status page', () => {
  test('loads without console errors and shows every service’s mode, pool and the budget bar', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

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
