import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { openAgentWorktree } from '../../src/workspace/agent-worktree.js';
import { git, makeGitRepo, testGitEnv } from '../helpers/git-repo.js';
import { createTinyProject, findInconsistencies, killLeftovers, rowOf, type TinyProject } from '../helpers/project.js';

/**
 * Issue 7, class 9: nothing in a command agent's workspace leads to the project's repository.
 * The agent below drops the GIT_DIR crucible gives it and tries git from its workspace and from
 * the folder above, reads `.git`, and searches everything around it for the project's path.
 */

const ESCAPE_AGENT = `import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const ctl = process.env.CRUCIBLE_TEST_CTL;
const project = readFileSync(ctl + '/project-path', 'utf8');
const bare = { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@a', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@a' };
delete bare.GIT_DIR;
delete bare.GIT_WORK_TREE;
const attempt = (args, env = bare) => {
  try {
    return { ok: true, out: execFileSync('git', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    return { ok: false, out: String(error.stderr ?? error.message) };
  }
};
const found = [];
const scan = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) scan(file);
    else if (entry.isFile() && readFileSync(file).includes(project)) found.push(file);
  }
};
scan(path.dirname(process.cwd()));
const record = {
  gitDir: process.env.GIT_DIR ?? '',
  workTree: process.env.GIT_WORK_TREE ?? '',
  own: attempt(['status', '--porcelain'], process.env),
  where: attempt(['rev-parse', '--absolute-git-dir']),
  whereUp: attempt(['-C', '..', 'rev-parse', '--absolute-git-dir']),
  show: attempt(['show', 'HEAD:evaluate.js']),
  showUp: attempt(['-C', '..', 'show', 'HEAD:evaluate.js']),
  commit: attempt(['commit', '-q', '--allow-empty', '-m', 'agent was here']),
  branch: attempt(['branch', '-f', 'main', 'HEAD']),
  branchUp: attempt(['-C', '..', 'branch', '-f', 'main', 'HEAD']),
  branchOwn: attempt(['branch', '-f', 'main', 'HEAD'], process.env),
  dotGit: existsSync('.git') ? (lstatSync('.git').isFile() ? readFileSync('.git', 'utf8') : 'a folder') : null,
  found,
};
writeFileSync(ctl + '/escape-' + process.env.CRUCIBLE_TRIAL + '.json', JSON.stringify(record));
writeFileSync('solution.js', 'export const X = ' + (10 * Number(process.env.CRUCIBLE_TRIAL) + 10) + '; // @tune 1..100 int\\n');
console.log('tried to leave the workspace');
`;

interface Attempt {
  ok: boolean;
  out: string;
}
type EscapeRecord = Record<'own' | 'where' | 'whereUp' | 'show' | 'showUp' | 'commit' | 'branch' | 'branchUp' | 'branchOwn', Attempt> & {
  gitDir: string;
  workTree: string;
  dotGit: string | null;
  found: string[];
};

let project: TinyProject | undefined;
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const HARNESS_TEXT = 'the harness is broken';

describe('a command agent and the project repository', () => {
  it('finds no way from its workspace to the project: not through .git, GIT_DIR, the folder above, nor any file there', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    writeFileSync(path.join(p.root, 'agent.mjs'), ESCAPE_AGENT);
    writeFileSync(path.join(p.ctl, 'project-path'), p.dir);
    const mainBefore = git(p.dir, 'rev-parse', 'main');

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 });

    expect(report.trials).toBe(2);
    for (const trial of [1, 2]) {
      const rec = JSON.parse(execFileSync('cat', [path.join(p.ctl, `escape-${trial}.json`)], { encoding: 'utf8' })) as EscapeRecord;
      const what = `trial ${trial}: ${JSON.stringify(rec, null, 1)}`;
      expect(rec.own.ok, what).toBe(true);
      expect(rec.gitDir.startsWith(p.dir), what).toBe(false);
      expect(rec.dotGit, what).toBeNull();
      expect(rec.found, what).toEqual([]);
      for (const key of ['where', 'whereUp', 'show', 'showUp', 'commit', 'branch', 'branchUp', 'branchOwn'] as const) {
        expect(rec[key].out, `${key} in ${what}`).not.toContain(p.dir);
        expect(rec[key].out, `${key} in ${what}`).not.toContain(HARNESS_TEXT);
      }
      expect(rec.show.ok, what).toBe(false);
      expect(rec.branch.ok && rec.branchUp.ok, what).toBe(false);
    }
    expect(git(p.dir, 'rev-parse', 'main')).toBe(mainBefore);
    expect(git(p.dir, 'log', '--all', '--format=%s')).not.toContain('agent was here');
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('keep');
    expect(rowOf(p.dir, 't', 2)?.['status']).toBe('keep');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });

  it('leaves no way back from a project in a subfolder, where the folder above the workspace is the repository top', async () => {
    const repo = makeGitRepo({ 'exp/train.py': 'lr = 1\n', 'exp/evaluate.py': `print("${HARNESS_TEXT}")\n`, 'other/x.py': 'x\n' });
    cleanups.push(repo.cleanup);
    git(repo.dir, 'branch', 'user');
    const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-hostile-escape-')));
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    const policy = createAccessPolicy({ editable: ['train.py'], readonly: [], hidden: ['evaluate.py'] });
    const wt = await openAgentWorktree({ projectDir: path.join(repo.dir, 'exp'), tag: 'sub', commit: 'HEAD', policy, baseDir: base, env: testGitEnv });
    cleanups.push(() => wt.remove());
    const env = { ...testGitEnv };
    delete env['GIT_DIR'];
    delete env['GIT_WORK_TREE'];
    const attempt = (cwd: string, ...args: string[]): Attempt => {
      try {
        return { ok: true, out: execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
      } catch (error) {
        return { ok: false, out: String((error as { stderr?: unknown }).stderr ?? error) };
      }
    };
    const userBefore = git(repo.dir, 'rev-parse', 'user');
    const up = path.dirname(wt.root);
    expect(existsSync(path.join(up, '.git'))).toBe(false);
    for (const cwd of [wt.root, up]) {
      expect(attempt(cwd, 'show', 'HEAD:exp/evaluate.py').out).not.toContain(HARNESS_TEXT);
      expect(attempt(cwd, 'commit', '-q', '--allow-empty', '-m', 'agent was here').ok).toBe(false);
      expect(attempt(cwd, 'branch', '-f', 'user', 'HEAD').ok).toBe(false);
      expect(attempt(cwd, 'rev-parse', '--absolute-git-dir').out).not.toContain(repo.dir);
    }
    expect(git(repo.dir, 'rev-parse', 'user')).toBe(userBefore);
    // crucible itself still works there.
    writeFileSync(path.join(wt.root, 'train.py'), 'lr = 2\n');
    expect(await wt.changes()).toEqual([{ path: 'train.py', kind: 'modified' }]);
  });
});
