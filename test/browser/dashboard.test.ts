import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, collectPageErrors, launchBrowser, type Browser } from '../helpers/browser.js';
import { startDashboardCli, type DashboardProcess } from '../helpers/dashboard.js';
import { checkCliBuilt, cliPath, createTinyProject, killLeftovers, planAgent, runCli, setKnob, startCli, type TinyProject } from '../helpers/project.js';

/** The live dashboard in real headless Chromium, over runs made by real `crucible run`s. */

const XSS = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;
let project: TinyProject;
let dashboard: DashboardProcess;
let browser: Browser;

describe.skipIf(browserSkipReason !== '')(`the dashboard in Chromium${browserSkipReason}`, () => {
  beforeAll(async () => {
    checkCliBuilt();
    project = createTinyProject({ agent: 'command' });
    planAgent(project, { 1: { x: 20 }, 2: { x: 10, say: XSS } });
    const first = await runCli(project, ['run', '--tag', 'first', '-n', '2']);
    expect(first.code, first.stderr).toBe(0);
    [dashboard, browser] = await Promise.all([startDashboardCli(project), launchBrowser()]);
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
    if (project) {
      killLeftovers(project);
      project.cleanup();
    }
  });

  it('refuses the page without the token', async () => {
    const page = await browser.newPage();
    const answer = await page.goto(`${dashboard.origin}/`);
    expect(answer?.status()).toBe(403);
    expect(await page.textContent('body')).toContain('forbidden');
    await page.close();
  });

  it('shows a finished run\'s counts and best as crucible status does, and an agent\'s markup as text', async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(dashboard.url);
    await page.waitForSelector('body[data-ready="3"]');
    const status = JSON.parse(execFileSync(process.execPath, [cliPath, 'status', '--json', '--tag', 'first'], { cwd: project.dir, env: project.env, encoding: 'utf8' })) as { total: number; kept: number; discarded: number; best: { metric: number } };
    const card = (key: string) => page.textContent(`#cards [data-k="${key}"] .v`);
    expect(await card('trials')).toBe(String(status.total));
    expect(await card('kept')).toBe(String(status.kept));
    expect(await card('discarded')).toBe(String(status.discarded));
    expect(await card('best')).toBe(String(status.best.metric));
    expect(await page.locator('#chart path.pt-keep').getAttribute('data-count')).toBe(String(status.kept));
    expect(await page.locator('#trials tbody tr').count()).toBe(3);
    // The description the agent wrote is shown as it is, and none of it ran.
    expect(await page.textContent('#trials tbody tr[data-n="2"] td.desc')).toBe(XSS);
    expect(await page.title()).toBe('crucible dashboard');
    expect(errors).toEqual([]);
    await browser.screenshot(page, 'dashboard-run');
    await page.close();
  });

  it('opens a trial\'s diff, prompt and run log', async () => {
    const page = await browser.newPage();
    await page.goto(dashboard.url);
    await page.waitForSelector('body[data-ready="3"]');
    await page.click('#trials tbody tr[data-n="1"]');
    await page.locator('#artifact', { hasText: 'solution.js' }).waitFor();
    expect(await page.textContent('#artifact')).toMatch(/^-export const X = 1;/m);
    expect(await page.textContent('#artifact')).toMatch(/^\+export const X = 20;/m);
    await browser.screenshot(page, 'dashboard-trial-diff');
    await page.click('#detail .tabs button[data-kind="log"]');
    await page.locator('#artifact', { hasText: 'score: 20' }).waitFor();
    await page.close();
  });

  it('shows a run going in another process as it goes, without reloading, and compares two runs', async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(dashboard.url);
    await page.waitForSelector('body[data-ready="3"]');
    await page.evaluate('window.marker = 1');
    // Trial 1's experiment goes on only once the page has shown it in flight (8 s at most): a
    // window no load can shut, where a one-second sleep could end before a slow page drew it.
    setKnob(project, 'wait-for.1', 'seen-in-flight');
    planAgent(project, { 1: { x: 40 } });
    const run = startCli(project, ['run', '--tag', 'second', '-n', '1']);
    try {
      await page.waitForSelector('#runs button[data-tag="second"]', { timeout: 20_000 });
      await page.click('#runs button[data-tag="second"]');
      await page.waitForSelector('#inflight-section:not([hidden]) #inflight tbody tr[data-n="1"]', { timeout: 20_000 });
      expect(await page.textContent('#status')).toBe('running');
      await browser.screenshot(page, 'dashboard-in-flight');
      setKnob(project, 'seen-in-flight', 1);
      await page.waitForSelector('#trials tbody tr[data-n="1"] .o-keep', { timeout: 30_000 });
      expect((await run.done).code).toBe(0);
      await page.locator('#status', { hasText: /^not running$/ }).waitFor({ timeout: 5000 });
      expect(await page.evaluate('window.marker')).toBe(1); // never reloaded
      await page.selectOption('#compare', 'first');
      await page.waitForSelector('#chart path.pt-cmp');
      expect(await page.locator('#chart path.pt-cmp').getAttribute('data-count')).toBe('3');
      await browser.screenshot(page, 'dashboard-compare');
      expect(errors).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
      await run.done;
      setKnob(project, 'wait-for.1', null);
      setKnob(project, 'seen-in-flight', null);
      await page.close();
    }
  });
});
