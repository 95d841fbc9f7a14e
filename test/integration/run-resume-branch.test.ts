import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { checkCliBuilt, createTinyProject, killLeftovers, ledgerEvents, runCli, type TinyProject } from '../helpers/project.js';

/**
 * A run resumed after the user left its branch: `run` learns in one git process whether the
 * branch exists, where it is and whether HEAD is on it (decisions 56), switches back, and still
 * refuses, under its lock, to build on an uncommitted change to an editable file.
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

describe('a run resumed after the user switched branches', () => {
  it('switches back to its branch and goes on from its commit', async () => {
    const p = createTinyProject();
    project = p;
    expect((await runCli(p, ['run', '--tag', 't', '-n', '1', '--no-interactive'])).code).toBe(0);
    const tip = git(p.dir, 'rev-parse', 'crucible/t');
    git(p.dir, 'switch', '-q', 'main');
    const result = await runCli(p, ['run', '--tag', 't', '-n', '1', '--no-interactive']);
    expect(result.stderr).not.toMatch(/error|internal/);
    expect(result.code).toBe(0);
    expect(git(p.dir, 'symbolic-ref', '--short', 'HEAD')).toBe('crucible/t');
    // The second session built on the first one's branch, not on main.
    expect(git(p.dir, 'merge-base', '--is-ancestor', tip, 'HEAD')).toBe('');
    const sessions = ledgerEvents(p.dir, 't').filter((e) => e.type === 'session.start');
    expect(sessions).toHaveLength(2);
  });

  it('refuses an uncommitted change to an editable file, and keeps it', async () => {
    const p = createTinyProject();
    project = p;
    expect((await runCli(p, ['run', '--tag', 't', '-n', '1', '--no-interactive'])).code).toBe(0);
    for (const leave of [false, true]) {
      if (leave) git(p.dir, 'switch', '-q', 'main');
      const mine = `export const X = 7; // @tune 1..100 int\n// my unfinished idea ${String(leave)}\n`;
      writeFileSync(path.join(p.dir, 'solution.js'), mine);
      const result = await runCli(p, ['run', '--tag', 't', '-n', '1', '--no-interactive']);
      expect(result.code, result.stderr).toBe(4);
      // On its branch: crucible's own check. From main, where the trial changed the file, git's
      // switch refuses first (the same change would otherwise be carried onto the run branch).
      expect(result.stderr).toMatch(leave ? /cannot switch to branch crucible\/t|uncommitted changes to editable files: solution\.js/ : /uncommitted changes to editable files: solution\.js/);
      expect(result.stderr.split('\n').filter((line) => line.startsWith('error:'))).toHaveLength(1);
      expect(git(p.dir, 'diff', '--name-only')).toBe('solution.js');
      git(p.dir, 'checkout', '--', 'solution.js');
    }
  });
});
