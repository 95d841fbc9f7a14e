import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import { createTinyProject, findInconsistencies, killLeftovers, ledgerEvents, planAgent, rowOf, setKnob, type TinyProject } from '../helpers/project.js';

/**
 * A change that is lucky once: its code scores far above the incumbent on its first run only
 * (it leaves a mark outside the project and behaves like the baseline from then on), on a noisy
 * project. With the defaults the lucky run is measured again beside the incumbent and the change
 * is not kept; with `evaluation.confirm: false` the same change is kept on that one run (the
 * contrast: the attack works where nothing measures twice).
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

// The tiny project's score: X plus seeded Gaussian noise of sd 1 (test/fixtures/noisy-experiment.mjs).
const fixture = fileURLToPath(new URL('../fixtures/noisy-experiment.mjs', import.meta.url));
const score = "(await import(new URL('noisy-experiment.mjs', ctl))).measure(X, ctl)";

/** solution.js whose first run scores 50, every later one 1 (as the baseline): the mark is outside the project. */
function luckyOnce(mark: string): string {
  return [
    "import { existsSync, writeFileSync } from 'node:fs';",
    `const mark = ${JSON.stringify(mark)};`,
    'const first = !existsSync(mark);',
    "if (first) writeFileSync(mark, 'lucky');",
    'export const X = first ? 50 : 1;',
    '',
  ].join('\n');
}

interface End {
  outcome: string;
  metric: number | null;
  samples?: number[];
  incumbentSamples?: number[];
}

function endOf(p: TinyProject, n: number): End {
  return ledgerEvents(p.dir, 't').find((e) => e.type === 'trial.end' && e.n === n)?.['summary'] as End;
}

function luckyProject(evaluation: string, parallel: string): TinyProject {
  const p = createTinyProject({ agent: 'command', parallel, evaluation, score });
  copyFileSync(fixture, path.join(p.ctl, 'noisy-experiment.mjs'));
  setKnob(p, 'noise-seed', 7);
  planAgent(p, { 1: { write: { 'solution.js': luckyOnce(path.join(p.ctl, 'lucky-mark')) }, say: 'a faster X' } });
  return p;
}

describe.each([
  ['the project folder (one worker)', '{ agents: 1 }'],
  ['a slot (two workers)', '{ workers: 2, agents: 1 }'],
])('a change lucky on its first run only, in %s', (_where, parallel) => {
  it('is not kept with the defaults: measured again beside the incumbent, it is as good as the baseline', async () => {
    // `{}`: every evaluation key at its default (the tiny projects otherwise turn confirmation off).
    const p = luckyProject('{}', parallel);
    project = p;

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });

    expect(endOf(p, 0).samples).toHaveLength(3);
    const one = endOf(p, 1);
    expect(one.outcome).toBe('discard');
    // The lucky run, then the pairs: the change's later runs are the baseline's value plus noise.
    expect(one.samples?.[0]).toBeGreaterThan(45);
    expect(one.samples?.slice(1).every((v) => v < 5)).toBe(true);
    expect(one.incumbentSamples?.length).toBeGreaterThanOrEqual(1);
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('discard');
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toBe('export const X = 1; // @tune 1..100 int');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});

describe('without confirmation (the contrast)', () => {
  it('the same change is kept on its lucky run', async () => {
    const p = luckyProject('{ confirm: false }', '{ agents: 1 }');
    project = p;

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });

    const one = endOf(p, 1);
    expect(one.outcome).toBe('keep');
    expect(one.metric).toBeGreaterThan(45);
    expect(one.incumbentSamples).toBeUndefined();
    expect(report.best).toBe(one.metric);
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('first ? 50 : 1');
  });
});
