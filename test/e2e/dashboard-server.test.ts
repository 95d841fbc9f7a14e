import { execFileSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followEvents, get, startDashboardCli, type DashboardProcess } from '../helpers/dashboard.js';
import { checkCliBuilt, cliPath, createTinyProject, killLeftovers, ledgerEvents, runCli, setKnob, startCli, waitUntil, type TinyProject } from '../helpers/project.js';

/** `crucible dashboard`, spawned, against a project whose runs are real `crucible run`s. */

let project: TinyProject;
let dashboard: DashboardProcess;

beforeAll(async () => {
  checkCliBuilt();
  project = createTinyProject({ score: '100 - Math.abs(X - 42)' });
  const first = await runCli(project, ['run', '--tag', 'first', '-n', '3']);
  expect(first.code, first.stderr).toBe(0);
  dashboard = await startDashboardCli(project);
});

afterAll(async () => {
  await dashboard?.stop();
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
});

describe('crucible dashboard', () => {
  it('prints a URL on 127.0.0.1 with a token, and answers nothing without that token', async () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32}$/);
    const page = await get(dashboard.origin, `/?token=${dashboard.token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const wrong = dashboard.token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    for (const path of ['/', '/api/runs', '/api/run/first', '/api/events', `/?token=${wrong}`, `/api/runs?token=${wrong}`, `/api/runs?token=${dashboard.token.slice(1)}`]) {
      const answer = await get(dashboard.origin, path);
      expect(answer.status, path).toBe(403);
      expect(answer.body, path).not.toContain('first');
    }
  });

  it('answers only on 127.0.0.1, and only to requests naming it (no DNS rebinding)', async () => {
    const { port } = new URL(dashboard.origin);
    const others = Object.values(os.networkInterfaces()).flat().filter((address) => address && !address.internal && address.family === 'IPv4');
    for (const address of others) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: address!.address, port: Number(port) }, () => resolve(false));
        socket.on('error', () => resolve(true));
        socket.setTimeout(2000, () => resolve(true));
      });
      expect(refused, `${address!.address}:${port}`).toBe(true);
    }
    expect((await get(dashboard.origin, `/api/runs?token=${dashboard.token}`, { Host: `evil.example:${port}` })).status).toBe(403);
    expect((await get(dashboard.origin, `/api/runs?token=${dashboard.token}`, { Host: `localhost:${port}` })).status).toBe(200);
  });

  it('serves the runs as crucible status counts them, and each trial\'s texts', async () => {
    const runs = JSON.parse((await get(dashboard.origin, `/api/runs?token=${dashboard.token}`)).body) as Array<{ tag: string; trials: number; live: boolean }>;
    expect(runs).toEqual([{ tag: 'first', trials: 4, live: false }]);
    const model = JSON.parse((await get(dashboard.origin, `/api/run/first?token=${dashboard.token}`)).body) as { summary: { trials: number; kept: number; best: { metric: number } | null } };
    const status = JSON.parse(execFileSync(process.execPath, [cliPath, 'status', '--json', '--tag', 'first'], { cwd: project.dir, env: project.env, encoding: 'utf8' })) as Record<string, unknown>;
    expect(model.summary).toMatchObject({ trials: status['total'], kept: status['kept'], discarded: status['discarded'] });
    expect(model.summary.best?.metric).toBe((status['best'] as { metric: number }).metric);
    const diff = await get(dashboard.origin, `/api/run/first/trial/1/diff?token=${dashboard.token}`);
    expect(diff.status).toBe(200);
    expect(diff.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(diff.body).toContain('solution.js');
  });

  it('refuses every path outside the trials\' texts', async () => {
    const t = `token=${dashboard.token}`;
    const paths = [
      `/api/run/first/trial/1/..%2F..%2Fledger.jsonl?${t}`,
      `/api/run/first/trial/1/ledger?${t}`,
      `/api/run/..%2F..%2F..%2Fetc?${t}`,
      `/api/run/%2e%2e/trial/1/diff?${t}`,
      `/api/run/first/trial/..%2F..%2F..%2F..%2Fsolution.js/diff?${t}`,
      `/api/run/first/trial/-1/diff?${t}`,
      `/api/run/nosuchrun/trial/1/diff?${t}`,
      `/..%2F..%2Fetc%2Fpasswd?${t}`,
      `/evaluate.js?${t}`,
      `/.crucible/config.yaml?${t}`,
      `/api/run/first/trial/1/diff/extra?${t}`,
    ];
    for (const path of paths) {
      const answer = await get(dashboard.origin, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body, path).toBe('not found\n');
    }
  });

  it('pushes a new run\'s trials within a second of their ledger events while crucible run works in another process, and says when it ends', async () => {
    const stream = await followEvents(dashboard.origin, dashboard.token);
    try {
      setKnob(project, 'sleep-ms', 600);
      const run = startCli(project, ['run', '--tag', 'second', '-n', '3']);
      const result = await run.done;
      expect(result.code, result.stderr).toBe(0);
      await waitUntil(() => stream.events.some((e) => e.data['tag'] === 'second' && e.data['live'] === false && !e.data['reset']), 'the dashboard to see the run end', 5000);
      const seen = new Map<number, number>(); // trial -> when the page was told it ended
      for (const { at, data } of stream.events) {
        if (data['tag'] !== 'second' || data['reset']) continue;
        for (const trial of data['trials'] as Array<{ n: number; o: string | null }>) if (trial.o !== null && !seen.has(trial.n)) seen.set(trial.n, at);
      }
      const ends = ledgerEvents(project.dir, 'second').filter((e) => e.type === 'trial.end');
      expect(ends.length).toBe(4);
      const lags = ends.map((e) => seen.get(e.n!)! - Date.parse(e['ts'] as string));
      for (const lag of lags) expect(lag).toBeLessThan(1000);
      expect(stream.events.some((e) => e.data['tag'] === 'second' && e.data['live'] === true)).toBe(true);
    } finally {
      stream.close();
    }
  });

  it('stops on Ctrl+C with exit code 0', async () => {
    await dashboard.stop();
    expect(dashboard.child.exitCode).toBe(0);
  });
});
