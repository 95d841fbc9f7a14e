import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import {
  checkCliBuilt,
  copyProject,
  createTinyProject,
  killLeftovers,
  ledgerEvents,
  planAgent,
  readFilesOf,
  resultRows,
  rowOf,
  runCli,
  type TinyProject,
} from '../helpers/project.js';

/**
 * A run beyond greedy killed in the middle of a trial measured on a node that is not the best:
 * the project folder is at that node (or going back from it) when the run dies. A plain
 * `crucible run` must bring everything back to the best node and go on from the tree.
 *
 * `tree` with prune_after 2 and no exploration (maximize X; the baseline is 1): 20 is kept on the
 * baseline, 10 and 15 fail on it (20 is pruned), so trial 4 starts from the baseline, where 5 beats
 * 1 but not 20: kept off the branch, tagged node/t/4. The run is killed after one event of trial 4.
 */

const PLAN = { 1: { x: 20 }, 2: { x: 10 }, 3: { x: 15 }, 4: { x: 5 }, 5: { x: 30 }, 6: { x: 25 } };
const WATCHED = ['evaluate.js', 'notes.txt', 'data/x.csv', 'package.json'];
// Trial 4's events while the project folder is away from the best node: moved to trial 4's commit
// (apply), measured there (run.done), decided (decide), back at the best node (reset).
const EVENTS = ['apply', 'run.done', 'decide', 'reset'];

let template: TinyProject;
const projects: TinyProject[] = [];

beforeAll(async () => {
  checkCliBuilt();
  template = createTinyProject({ agent: 'command', search: '{ strategy: tree, prune_after: 2, exploration: 0 }' });
  planAgent(template, PLAN);
  const first = await runCli(template, ['run', '--tag', 't', '-n', '3']);
  expect(first.code, first.stderr).toBe(0);
  expect([1, 2, 3].map((n) => rowOf(template.dir, 't', n)?.['status'])).toEqual(['keep', 'discard', 'discard']);
}, 120_000);
afterAll(() => template?.cleanup());
afterEach(() => {
  for (const p of projects.splice(0)) {
    killLeftovers(p);
    p.cleanup();
  }
});

describe('tree: SIGKILL while a trial is measured on a node that is not the best, then crucible run', () => {
  it.each(EVENTS)('after %s', async (event) => {
    const project = copyProject(template);
    projects.push(project);
    planAgent(project, PLAN);
    const before = readFilesOf(project.dir, WATCHED);
    const best = git(project.dir, 'rev-parse', 'crucible/t');

    const killed = await runCli(project, ['run', '--tag', 't', '-n', '1'], { env: { CRUCIBLE_FAULT_KILL_AFTER: `${event}:4` } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(ledgerEvents(project.dir, 't').at(-1)?.type).toBe(event);
    // Measured in the project folder, the candidate is checked out on the run branch (as under
    // greedy): from apply until reset the branch is away from the best node.
    const away = git(project.dir, 'rev-parse', 'crucible/t') !== best;
    expect(away).toBe(event === 'run.done' || event === 'decide');
    const decided = ledgerEvents(project.dir, 't').some((e) => e.n === 4 && e.type === 'decide');

    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '2']);
    expect(resumed.code, resumed.stderr).toBe(0);

    const rows = resultRows(project.dir, 't');
    expect(rows.map((r) => Number(r['trial']))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const events = ledgerEvents(project.dir, 't');
    for (const n of [4, 5, 6]) expect(events.filter((e) => e.n === n && e.type === 'trial.end'), `trial ${n}`).toHaveLength(1);
    // A decided trial keeps its decision; one cut short before it is interrupted, not kept.
    const fourth = rowOf(project.dir, 't', 4)?.['status'];
    if (decided) expect(fourth).toBe('keep');
    else expect(['keep', 'interrupted']).toContain(fourth);
    // Either way trial 5 starts from a node of the tree (trial 4's, or the baseline when 4 was
    // lost) and 30 leads: the run branch is at it, the project folder too, clean.
    expect(rowOf(project.dir, 't', 5)).toMatchObject({ status: 'keep', metric_value: '30' });
    const fifth = (events.find((e) => e.type === 'trial.end' && e.n === 5)?.['summary'] as { commit: string }).commit;
    expect(git(project.dir, 'rev-parse', 'crucible/t')).toBe(fifth);
    expect(git(project.dir, 'rev-parse', 'HEAD')).toBe(fifth);
    expect(git(project.dir, 'show', 'crucible/t:solution.js')).toContain('X = 30;');
    expect(git(project.dir, 'status', '--porcelain', '--untracked-files=no')).toBe('');
    if (fourth === 'keep') {
      expect(git(project.dir, 'rev-parse', 'crucible/t~1')).toBe(git(project.dir, 'rev-parse', 'node/t/4'));
      expect(git(project.dir, 'show', 'node/t/4:solution.js')).toContain('X = 5;');
    }
    expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
  });
});
