import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';

/**
 * Real headless Chromium for the browser tests: Debian's `chromium` driven by playwright-core
 * (which never downloads a browser). CRUCIBLE_CHROMIUM names another executable.
 */
export const chromiumPath = process.env['CRUCIBLE_CHROMIUM'] ?? '/usr/bin/chromium';
/** Appended to a describe title: empty, or why its tests are skipped. */
export const browserSkipReason = existsSync(chromiumPath) ? '' : ` (skipped: no Chromium at ${chromiumPath}; install Debian's chromium or set CRUCIBLE_CHROMIUM)`;

/** Where the tests save what each view looked like (git-ignored). */
export const screenshotDir = path.join(fileURLToPath(new URL('../../', import.meta.url)), 'test-output', 'screenshots');

export interface Browser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

/** One Chromium per test file: starting it is the slow part (about a second). */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // Playwright refuses --user-data-dir in args: a persistent context takes a fresh folder instead.
  const profile = mkdtempSync(path.join(os.tmpdir(), 'crucible-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(screenshotDir, { recursive: true });
  return {
    context,
    newPage: () => context.newPage(),
    screenshot: async (page, name) => void (await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true })),
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Errors the page's own script threw: a test fails on any. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return errors;
}
