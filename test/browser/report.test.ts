import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, collectPageErrors, launchBrowser, type Browser } from '../helpers/browser.js';
import { checkCliBuilt, createTinyProject, killLeftovers, planAgent, runCli, type TinyProject } from '../helpers/project.js';

/** The HTML reports opened from a file in real headless Chromium, with every request watched. */

let project: TinyProject;
let browser: Browser;

describe.skipIf(browserSkipReason !== '')(`the HTML report in Chromium${browserSkipReason}`, () => {
  beforeAll(async () => {
    checkCliBuilt();
    project = createTinyProject({ agent: 'command' });
    planAgent(project, { 1: { x: 20 }, 2: { x: 10 } });
    for (const tag of ['first', 'second']) {
      if (tag === 'second') planAgent(project, { 1: { x: 40 } });
      const run = await runCli(project, ['run', '--tag', tag, '-n', tag === 'first' ? '2' : '1']);
      expect(run.code, run.stderr).toBe(0);
    }
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    if (project) {
      killLeftovers(project);
      project.cleanup();
    }
  });

  /** Opens `file`, failing on any request that is not the file itself. */
  async function open(file: string) {
    const page = await browser.newPage();
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith('file:') ? route.continue() : route.abort();
    });
    const errors = collectPageErrors(page);
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready]');
    return { page, requests, errors };
  }

  it('postmortem --html: opens from file:// with no network and shows the chart, the counts and a trial\'s diff', async () => {
    const file = path.join(project.root, 'report.html');
    const made = await runCli(project, ['postmortem', '--tag', 'first', '--html', '--out', file]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).not.toMatch(/(src|href)="https?:/);
    const { page, requests, errors } = await open(file);
    expect(await page.textContent('#cards [data-k="trials"] .v')).toBe('2');
    expect(await page.textContent('#cards [data-k="kept"] .v')).toBe('1');
    expect(await page.textContent('#cards [data-k="best"] .v')).toBe('20');
    expect(await page.locator('#chart path.pt-keep').getAttribute('data-count')).toBe('1');
    expect(await page.locator('#chart path.pt-discard').getAttribute('data-count')).toBe('1');
    expect(await page.locator('#chart path.best').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+H/);
    await page.click('#trials tbody tr[data-n="1"]');
    await page.locator('#artifact', { hasText: '+export const X = 20;' }).waitFor();
    await page.selectOption('#filter', 'discard');
    // The table is drawn again on the next frame: wait for it rather than count the old one.
    await expect.poll(() => page.locator('#trials tbody tr').count()).toBe(1);
    await browser.screenshot(page, 'report-postmortem');
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('compare --html: both runs on one chart', async () => {
    const file = path.join(project.root, 'compare.html');
    const made = await runCli(project, ['compare', 'first', 'second', '--html', '--out', file]);
    expect(made.code, made.stderr).toBe(0);
    const { page, requests, errors } = await open(file);
    expect(await page.locator('#runs button').allTextContents()).toEqual(['first', 'second']);
    expect(await page.locator('#chart path.pt-cmp').getAttribute('data-count')).toBe('2');
    expect(await page.locator('#chart path.best-cmp').count()).toBe(1);
    await browser.screenshot(page, 'report-compare');
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
