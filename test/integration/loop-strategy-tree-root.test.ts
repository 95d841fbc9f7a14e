import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { runPaths } from '../../src/store/run-paths.js';
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

describe('tree: the prompt of a trial sent off the best node', () => {
  it('shows how that node was reached and what was already tried from it', async () => {
    const p = createTinyProject({ agent: 'command', search: '{ strategy: tree, prune_after: 2, exploration: 0 }' });
    project = p;
    // 20 is kept; 10 and 15 fail on it (pruned); 5 is kept on the baseline; 3 fails on 5; trial 6
    // goes back to 5's node (20's subtree is closed): off the best node, with one sibling tried.
    planAgent(p, { 1: { x: 20 }, 2: { x: 10 }, 3: { x: 15 }, 4: { x: 5 }, 5: { x: 3 }, 6: { x: 7 } });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 6 });

    expect(startOf(p, 6)).toBe(commitOf(p, 4));
    const prompt = readFileSync(`${runPaths(p.dir, 't').trialDir(6)}/prompt.md`, 'utf8');
    const section = prompt.slice(prompt.indexOf('## Where this trial starts'));
    expect(section).toMatch(/You start from trial 4 \(5\)/);
    expect(section).toMatch(/- trial 0: .*→ 1\n- trial 4: .*→ 5\n/);
    expect(section).toMatch(/Already tried from this point[^\n]*\n- trial 5 \(discard, 3\)/);
  });
});
