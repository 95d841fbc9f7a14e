import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { createTinyProject, killLeftovers, planAgent, readFilesOf, rowOf, type TinyProject } from '../helpers/project.js';

/**
 * The experiment runs the agent's code where the hidden harness lives. Code that rewrites the
 * harness (or a read-only file) must not win: the trial is a violation, the file is restored, the
 * change is reverted. A harness that rewrites its own files is the user's business, not tampering.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

const CHEAT = `import { writeFileSync } from 'node:fs';
// Rewrites the hidden harness so that every later trial scores a million.
writeFileSync(new URL('./evaluate.js', import.meta.url), 'console.log("score: 1000000");\\n');
export const X = 2;
`;

describe('an experiment that changes protected files', () => {
  it('is a violation; the harness is restored and the change reverted', async () => {
    const p = createTinyProject({ agent: 'command', maxRetries: 5 });
    project = p;
    planAgent(p, { 1: { write: { 'solution.js': CHEAT } }, 2: { x: 3 } });
    const before = readFilesOf(p.dir, ['evaluate.js', 'package.json']);

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 });

    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('violation');
    expect(rowOf(p.dir, 't', 1)?.['metric_value']).toBe('');
    expect(readFilesOf(p.dir, ['evaluate.js', 'package.json'])).toEqual(before);
    // The next trial is measured by the real harness: X=3 scores 3, not a million.
    expect(rowOf(p.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '3' });
    expect(report.best).toBe(3);
    const ledger = readFileSync(path.join(p.dir, '.crucible/runs/t/ledger.jsonl'), 'utf8');
    expect(ledger).toContain('"type":"tamper"');
  });

  it('leaves a harness alone that rewrites its own hidden files, with a warning', async () => {
    const p = createTinyProject({ agent: 'command', files: { 'cache/state.txt': 'initial\n' } });
    project = p;
    // The harness (hidden) updates a hidden cache file on every run: the user's own design.
    const evaluate = readFileSync(path.join(p.dir, 'evaluate.js'), 'utf8');
    const config = readFileSync(path.join(p.dir, '.crucible/config.yaml'), 'utf8').replace('hidden: [evaluate.js]', 'hidden: [evaluate.js, cache/]');
    writeFileSync(path.join(p.dir, 'evaluate.js'), `import { writeFileSync as w } from 'node:fs';\nw(new URL('./cache/state.txt', import.meta.url), String(Date.now()));\n${evaluate}`);
    writeFileSync(path.join(p.dir, '.crucible/config.yaml'), config);
    execFileSync('git', ['commit', '-qam', 'harness with a cache'], { cwd: p.dir, env: p.env });
    planAgent(p, { 1: { x: 5 } });
    const warnings: string[] = [];

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1, reporter: { warning: (m) => warnings.push(m) } });

    expect(warnings.some((w) => w.includes('cache/state.txt'))).toBe(true);
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'keep', metric_value: '5' });
  });
});
