import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProjectError } from '../../src/errors.js';
import { startRun } from '../../src/loop/start-run.js';
import { createScaffold } from '../../src/project/new-project.js';
import { readResults } from '../../src/store/results-file.js';
import { testGitEnv } from '../helpers/git-repo.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A repository whose crucible project lives in proj/, beside other files of the user's. */
function monorepo(): { root: string; project: string; env: NodeJS.ProcessEnv } {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-monorepo-')));
  roots.push(root);
  const env = { ...testGitEnv, CRUCIBLE_WORKTREE_DIR: path.join(root, '..', `${path.basename(root)}-worktrees`) };
  roots.push(env.CRUCIBLE_WORKTREE_DIR);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, env, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(root, 'README'), 'the rest of the repository\n');
  createScaffold(path.join(root, 'proj'));
  const config = path.join(root, 'proj', '.crucible', 'config.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace('# agent:\n#   type: claude-code', 'agent:\n  type: tuner'));
  git('add', '-A');
  git('commit', '-qm', 'init');
  return { root, project: path.join(root, 'proj'), env };
}

describe('a project in a subfolder of a larger repository', () => {
  it('runs, records and leaves the rest of the repository alone', async () => {
    const { root, project, env } = monorepo();
    const report = await startRun({ projectDir: project, tag: 'sub', env, maxIterations: 3 });
    expect(report.trials).toBe(3);
    const { rows } = await readResults(project);
    expect(rows.map((r) => r.trial)).toEqual([0, 1, 2, 3]);
    expect(execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' })).toBe('');
    // Every kept commit touched the project's editable file only.
    const changed = execFileSync('git', ['diff', '--name-only', 'main', 'crucible/sub'], { cwd: root, encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    expect(changed.every((file) => file === 'proj/solution.js')).toBe(true);
  });

  it('refuses to start over an uncommitted edit of an editable file, and keeps it', async () => {
    const { project, env } = monorepo();
    appendFileSync(path.join(project, 'solution.js'), '// my edit\n');
    await expect(startRun({ projectDir: project, tag: 'sub', env, maxIterations: 1 })).rejects.toThrow(ProjectError);
    expect(execFileSync('git', ['diff', '--name-only'], { cwd: project, encoding: 'utf8' }).trim()).toBe('proj/solution.js');
  });
});
