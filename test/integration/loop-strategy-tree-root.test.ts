import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import { commitOf, createTinyProject, killLeftovers, planAgent, rowOf, startOf, type TinyProject } from '../helpers/project.js';

/**
 * `tree` through the real loop when the baseline's first `prune_after` children all fail: the
 * baseline is never pruned, so the run goes on from it for the trials it was given (before, it
 * stopped there: "every node of the tree is pruned").
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe('tree: the baseline whose first children all fail', () => {
  it('is proposed from again, and the run does every trial it was asked for', async () => {
    const p = createTinyProject({ agent: 'command', search: '{ strategy: tree, prune_after: 2 }' });
    project = p;
    // Maximize X, the baseline is 1: 0 and 0.5 fail on it, then 5 beats it.
    planAgent(p, { 1: { x: 0 }, 2: { x: 0.5 }, 3: { x: 5 } });

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 3 });

    expect(report.reason.kind).toBe('max-iterations');
    expect([1, 2, 3].map((n) => rowOf(p.dir, 't', n)?.status)).toEqual(['discard', 'discard', 'keep']);
    expect(startOf(p, 3)).toBe(commitOf(p, 0));
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(commitOf(p, 3));
  });
});
