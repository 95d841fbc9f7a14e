import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeHtmlReport } from '../../src/cli/html-report-output.js';
import { createOutput } from '../../src/cli/output.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { startRun } from '../../src/loop/start-run.js';
import { buildHtmlReport } from '../../src/report/html/html-report.js';
import { loadProjectRecords, resolveTag } from '../../src/report/load-run.js';
import { get } from '../helpers/dashboard.js';
import { createTinyProject, killLeftovers, planAgent, shellSolution, type TinyProject } from '../helpers/project.js';

/**
 * The dashboard and the HTML report show a trial's texts from `.crucible/runs/<tag>/trials/<n>/`,
 * a folder inside the project, where the experiment runs arbitrary code as the user. An experiment
 * that swaps those texts for links to the user's files (or the trial's folder for a link to
 * another folder) must not get them served to the page or written into a report meant to be shared;
 * one that leaves a FIFO there must not hang the server.
 */

const SECRET = 'SECRET-ssh-key-of-the-user';
let project: TinyProject | undefined;
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe('trial texts an experiment replaced with links', () => {
  it('are not served by the dashboard nor put in the HTML report, and a FIFO does not hang the server', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    const secret = path.join(p.root, 'secret.txt');
    const outside = path.join(p.root, 'outside');
    writeFileSync(secret, `${SECRET}\n`);
    const trials = '.crucible/runs/t/trials';
    planAgent(p, {
      1: { write: { 'solution.js': shellSolution(5, `ln -sf ${secret} ${trials}/1/diff.patch; rm -f ${trials}/1/prompt.md; mkfifo ${trials}/1/prompt.md`) } },
      2: { write: { 'solution.js': shellSolution(7, `mkdir -p ${outside}; for f in diff.patch prompt.md run.log agent.log; do cp ${secret} ${outside}/$f; done; rm -rf ${trials}/2; ln -s ${outside} ${trials}/2`) } },
    });
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 });

    // The attack took place: the texts are links, a FIFO, a linked folder.
    const runDir = path.join(p.dir, trials);
    expect(lstatSync(path.join(runDir, '1', 'diff.patch')).isSymbolicLink()).toBe(true);
    expect(lstatSync(path.join(runDir, '1', 'prompt.md')).isFIFO()).toBe(true);
    expect(lstatSync(path.join(runDir, '2')).isSymbolicLink()).toBe(true);

    dashboard = await startDashboard({ projectDir: p.dir, projectName: 'p', metric: { name: 'score', direction: 'maximize' } });
    const origin = new URL(dashboard.url).origin;
    for (const [trial, kind] of [[1, 'diff'], [1, 'prompt'], [2, 'diff'], [2, 'prompt'], [2, 'log'], [2, 'transcript']] as const) {
      const answer = await get(origin, `/api/run/t/trial/${trial}/${kind}?token=${dashboard.token}`);
      expect(answer.body, `trial ${trial} ${kind}`).not.toContain(SECRET);
      expect(answer.status, `trial ${trial} ${kind}`).toBe(404);
    }
    // Trial 1's log was left alone: it is still there.
    expect((await get(origin, `/api/run/t/trial/1/log?token=${dashboard.token}`)).status).toBe(200);

    const records = await loadProjectRecords(p.dir, ['t']);
    await resolveTag(records, 't');
    expect(buildHtmlReport(records, ['t'])).not.toContain(SECRET);
  });

  it('the HTML report, made to be shared, leaves out lines of the hidden harness the experiment wrote into its log', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { write: { 'solution.js': shellSolution(5, 'cat evaluate.js >> .crucible/runs/t/trials/1/run.log') } } });
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });
    const hiddenLine = 'const knob = (name) =>';
    const records = await loadProjectRecords(p.dir, ['t']);
    await resolveTag(records, 't');
    expect(buildHtmlReport(records, ['t'])).toContain(hiddenLine); // the log holds it: without the redactor, the report would too

    const file = path.join(p.root, 'report.html');
    const lines: string[] = [];
    const out = { ...createOutput({ color: false }), info: (line: string) => void lines.push(line) };
    writeHtmlReport(records, ['t'], file, out);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toContain(hiddenLine);
    expect(html).toMatch(/\[\d+ lines from a hidden file removed\]/);
    expect(lines).toEqual([`HTML report written to ${file}`]);
  });
});

