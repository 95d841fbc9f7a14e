import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCliBuilt, createTinyProject, findInconsistencies, killLeftovers, rowOf, runCli, type TinyProject } from '../helpers/project.js';
import { git } from '../helpers/git-repo.js';

/**
 * The project folder's move back after a discard is done in process (decisions 45). Whoever
 * edits an editable file in the project folder during a run (the user, an unsandboxed
 * experiment) must find the edit where it was: the move refuses, as git's read-tree did, and the
 * run stops saying why.
 */

let project: TinyProject | undefined;
beforeAll(() => checkCliBuilt());
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe('an editable file edited in the project folder during a trial', () => {
  it('is left as edited: the move back refuses, the run stops with one line, and git shows the edit', { timeout: 60_000 }, async () => {
    // Lower is better: every trial moves X up from 1, is discarded, and the branch goes back.
    project = createTinyProject({ direction: 'minimize' });
    const p = project;
    const config = path.join(p.dir, '.crucible', 'config.yaml');
    // During a trial (X is no longer 1), the experiment appends a line of its own to solution.js.
    const edit = `[ ! -e ../ctl/edit ] || grep -q "X = 1;" solution.js || echo "// edited during the run" >> solution.js`;
    writeFileSync(path.join(p.ctl, 'edit'), '');
    writeFileSync(config, readFileSync(config, 'utf8').replace('  run: node evaluate.js > run.log 2>&1', `  run: node evaluate.js > run.log 2>&1; ${edit}`));
    git(p.dir, 'commit', '-qam', 'the run edits');

    const result = await runCli(p, ['run', '--tag', 't', '-n', '3']);
    expect(result.code, result.stderr).toBe(4);
    const errorLine = result.stderr.split('\n').find((line) => line.startsWith('error: '));
    expect(errorLine).toBe('error: cannot move the run branch back after trial 1: solution.js was changed in the project folder during the trial; the change is left as it is');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const content = readFileSync(path.join(p.dir, 'solution.js'), 'utf8');
    expect(content).toContain('// edited during the run');
    // Nothing lost and nothing hidden: git shows the edit as a change to the branch's file.
    expect(git(p.dir, 'status', '--porcelain', '--untracked-files=no')).toBe('M solution.js');
    expect(git(p.dir, 'diff', 'HEAD', '--', 'solution.js')).toContain('+// edited during the run');

    // Undone as the hint says, the next run goes on from the decision: the branch goes back.
    expect(result.stderr).toContain('git checkout -- solution.js');
    git(p.dir, 'checkout', '--', 'solution.js');
    rmSync(path.join(p.ctl, 'edit'));
    const resumed = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('discard');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
    expect(git(p.dir, 'status', '--porcelain', '--untracked-files=no')).toBe('');
  });
});
