import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import { createTinyProject, findInconsistencies, killLeftovers, ledgerEvents, planAgent, rowOf, type TinyProject } from '../helpers/project.js';

/**
 * Decisions that noise cannot fool: the baseline is measured several times (the noise floor), and a
 * candidate that beats the incumbent on its first measurement is measured again beside the
 * incumbent, in turn, in the same place, until the keep rule decides. A lucky first run is not
 * kept; a real improvement is, and the run branch ends where the records say.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

// X = 2 scores 100 on its first run only (a fluke), then 1 like the baseline; other X score X.
const FLUKE = "(X === 2 && !existsSync(new URL('fluked', ctl)) ? (appendFileSync(new URL('fluked', ctl), '1'), 100) : X === 2 ? 1 : X)";

interface End {
  outcome: string;
  metric: number | null;
  samples?: number[];
  incumbentSamples?: number[];
  margin?: number;
  p?: number;
}

function endOf(p: TinyProject, n: number): End {
  return ledgerEvents(p.dir, 't').find((e) => e.type === 'trial.end' && e.n === n)?.['summary'] as End;
}

function incumbentRuns(p: TinyProject, n: number): number {
  return ledgerEvents(p.dir, 't').filter((e) => e.type === 'run.done' && e.n === n && e['role'] === 'incumbent').length;
}

describe.each([
  ['the project folder (one worker)', '{ agents: 1 }'],
  ['a slot (two workers)', '{ workers: 2, agents: 1 }'],
])('confirm before keep, in %s', (_where, parallel) => {
  it('a lucky first run is measured again beside the incumbent and discarded', async () => {
    const p = createTinyProject({ agent: 'command', parallel, evaluation: '{ baseline_repeats: 3, confirm: true }', score: FLUKE });
    project = p;
    planAgent(p, { 1: { x: 2 } });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });

    const baseline = endOf(p, 0);
    expect(baseline).toMatchObject({ outcome: 'baseline', metric: 1, samples: [1, 1, 1] });
    const one = endOf(p, 1);
    expect(one.outcome).toBe('discard');
    // The first run (100), then two pairs with the incumbent: both sides 1.
    expect(one.samples).toEqual([100, 1, 1]);
    expect(one.incumbentSamples).toEqual([1, 1]);
    expect(incumbentRuns(p, 1)).toBe(2);
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('discard');
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('X = 1;');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });

  it('a real improvement is confirmed and kept, with its margin', async () => {
    const p = createTinyProject({ agent: 'command', parallel, evaluation: '{ baseline_repeats: 1, confirm: true }' });
    project = p;
    planAgent(p, { 1: { x: 5 } });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });

    const one = endOf(p, 1);
    // No noise floor measured (one baseline run): one pair cannot estimate a spread, two can.
    expect(one).toMatchObject({ outcome: 'keep', metric: 5, samples: [5, 5, 5], incumbentSamples: [1, 1], margin: 4, p: 0 });
    expect(incumbentRuns(p, 1)).toBe(2);
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('X = 5;');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});

describe('confirmation off', () => {
  it('keeps on the first measurement, as before', async () => {
    const p = createTinyProject({ agent: 'command', evaluation: '{ baseline_repeats: 1, confirm: false }', score: FLUKE });
    project = p;
    planAgent(p, { 1: { x: 2 } });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });

    expect(endOf(p, 1)).toMatchObject({ outcome: 'keep', metric: 100 });
    expect(incumbentRuns(p, 1)).toBe(0);
  });
});
