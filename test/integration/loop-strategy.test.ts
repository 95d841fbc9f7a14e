import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import { commitOf, createTinyProject, killLeftovers, planAgent, rowOf, startOf, type TinyProject } from '../helpers/project.js';

/**
 * Search beyond one greedy chain: a strategy sends a proposal to a node that is not the best
 * (restart: back to the baseline after a plateau). The change is measured on that node and kept
 * when it beats it; the run branch always points at the best node, and a kept node off the branch
 * stays reachable by a tag. A resumed run accepts the branch at the best node.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe.each([
  ['the project folder', '{ agents: 1 }'],
  ['slots', '{ workers: 2, agents: 1 }'],
])('restart, experiments in %s', (_where, parallel) => {
  it('goes back to the baseline after a plateau; a node that beats its own parent is kept off the branch until it leads', async () => {
    const p = createTinyProject({ agent: 'command', parallel, search: '{ strategy: restart, plateau: 2 }' });
    project = p;
    // 20 is kept; 10 and 15 are not (a plateau of 2); 5 starts from the baseline (1) and beats it, but not 20.
    planAgent(p, { 1: { x: 20 }, 2: { x: 10 }, 3: { x: 15 }, 4: { x: 5 }, 5: { x: 30 } });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 4 });

    const baseline = commitOf(p, 0);
    expect(startOf(p, 2)).toBe(commitOf(p, 1));
    expect(startOf(p, 4)).toBe(baseline);
    expect(rowOf(p.dir, 't', 4)).toMatchObject({ status: 'keep', metric_value: '5' });
    // The branch stays at the best node; trial 4's node is reachable by its tag.
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(commitOf(p, 1));
    expect(git(p.dir, 'rev-parse', 'node/t/4')).toBe(commitOf(p, 4));
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('X = 20;');

    // Resumed: the chain goes on from the latest kept node (trial 4's), and 30 leads now.
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });

    expect(startOf(p, 5)).toBe(commitOf(p, 4));
    expect(rowOf(p.dir, 't', 5)).toMatchObject({ status: 'keep', metric_value: '30' });
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(commitOf(p, 5));
    expect(git(p.dir, 'rev-parse', 'crucible/t~1')).toBe(commitOf(p, 4));
    expect(git(p.dir, 'status', '--porcelain', '--untracked-files=no')).toBe('');
  });
});
