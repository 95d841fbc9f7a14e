import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import { commitOf, createTinyProject, killLeftovers, planAgent, rowOf, shellSolution, startOf, type TinyProject } from '../helpers/project.js';

/**
 * `beam` and `tree` through the real loop: a second branch grows from a node that is not the
 * best, a change is kept when it beats the node it was measured on, the run branch always points
 * at the best node (a kept node off it is reachable by its tag), and a run resumed in the middle
 * goes on from the tree it left.
 *
 * The same plan serves both (maximize X; the baseline is 1): 20 is kept on the baseline; 10 and
 * 15 fail on 20; the next proposal goes back to the baseline (beam: a second branch is opened,
 * the baseline having been tried less than the first; tree with prune_after 2: 20's last two
 * children failed, so it is pruned), where 5 beats 1 but not 20; then the resumed run builds on
 * 5's node (beam: the branch tried least; tree: the best node not pruned), where 30 leads.
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
  ['beam', '{ strategy: beam, beam_width: 2 }', 'the project folder', '{ agents: 1 }'],
  ['beam', '{ strategy: beam, beam_width: 2 }', 'slots', '{ workers: 2, agents: 1 }'],
  ['tree', '{ strategy: tree, prune_after: 2, exploration: 0 }', 'the project folder', '{ agents: 1 }'],
  ['tree', '{ strategy: tree, prune_after: 2, exploration: 0 }', 'slots', '{ workers: 2, agents: 1 }'],
])('%s (%s), experiments in %s', (_name, search, _where, parallel) => {
  it('grows a second branch from the baseline; the run branch stays at the best node, and a resumed run goes on from the tree', async () => {
    const p = createTinyProject({ agent: 'command', parallel, search });
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { x: 10 }, 3: { x: 15 }, 4: { x: 5 }, 5: { x: 30 } });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 4 });

    const baseline = commitOf(p, 0);
    expect([1, 2, 3, 4].map((n) => startOf(p, n))).toEqual([baseline, commitOf(p, 1), commitOf(p, 1), baseline]);
    expect([1, 2, 3, 4].map((n) => rowOf(p.dir, 't', n)?.status)).toEqual(['keep', 'discard', 'discard', 'keep']);
    // Two branches: 20 on the run branch, 5 beside it (it beat its own node, the baseline).
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(commitOf(p, 1));
    expect(git(p.dir, 'rev-parse', 'node/t/4')).toBe(commitOf(p, 4));
    expect(git(p.dir, 'rev-parse', 'node/t/4~1')).toBe(baseline);
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('X = 20;');
    expect(git(p.dir, 'show', 'node/t/4:solution.js')).toContain('X = 5;');

    // Resumed in the middle of the search: the next proposal builds on the second branch.
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });

    expect(startOf(p, 5)).toBe(commitOf(p, 4));
    expect(rowOf(p.dir, 't', 5)).toMatchObject({ status: 'keep', metric_value: '30' });
    // 30 beats the best so far: the run branch moves to it, its parent the second branch's node.
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(commitOf(p, 5));
    expect(git(p.dir, 'rev-parse', 'crucible/t~1')).toBe(commitOf(p, 4));
    expect(git(p.dir, 'rev-parse', 'crucible/t~2')).toBe(baseline);
    expect(git(p.dir, 'status', '--porcelain', '--untracked-files=no')).toBe('');
    expect(git(p.dir, 'tag', '--list', 'node/t/*').split('\n')).toEqual(['node/t/4']);
  });
});

describe('the branch guard beyond greedy', () => {
  it('an experiment measured off the best node that commits on the run branch: the run stops, and no resume builds on its commit', async () => {
    const p = createTinyProject({ agent: 'command', search: '{ strategy: tree, prune_after: 2, exploration: 0 }' });
    project = p;
    const identity = '-c user.name=u -c user.email=u@example.com -c commit.gpgsign=false';
    // Trial 4 is measured on the baseline, checked out on the run branch: it commits there.
    planAgent(p, { 1: { x: 20 }, 2: { x: 10 }, 3: { x: 15 }, 4: { write: { 'solution.js': shellSolution(5, `git ${identity} commit --allow-empty -qm sneaky`) } }, 5: { x: 30 } });

    await expect(startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 4 })).rejects.toThrow(/crucible\/t/);
    expect(rowOf(p.dir, 't', 4)?.status).not.toBe('keep');

    await expect(startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 })).rejects.toThrow(/sneaky|moved|expected|crucible\/t/);
    expect(rowOf(p.dir, 't', 5)).toBeUndefined();
    expect(git(p.dir, 'tag', '--list', 'node/t/*')).toBe('');
  });
});
