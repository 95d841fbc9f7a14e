import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitError, ProjectError } from '../../src/errors.js';
import { createGit, shortSha } from '../../src/workspace/git.js';
import { moveRunBranch } from '../../src/workspace/run-branch.js';
import { initRepo, isInsideRepo, probeWorkTree, repoLayout, repoRoot } from '../../src/workspace/project-git.js';
import { git, loggingGit, makeGitRepo, testGitEnv, writeFiles, type TestRepo } from '../helpers/git-repo.js';

let repos: TestRepo[] = [];
const tempDirs: string[] = [];

function repo(files: Record<string, string> = { 'a.py': 'a = 1\n', 'b.py': 'b = 1\n' }): string {
  const r = makeGitRepo(files);
  repos.push(r);
  return r.dir;
}

function tempDir(): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-git-')));
  tempDirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const r of repos) r.cleanup();
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  repos = [];
});

const gitFor = (dir: string) => createGit(dir, { env: testGitEnv });
const read = (dir: string, rel: string) => readFileSync(path.join(dir, rel), 'utf8');

describe('repository questions', () => {
  it('tells a repository from a plain or missing folder', async () => {
    const dir = repo();
    mkdirSync(path.join(dir, 'sub'));
    expect(await isInsideRepo(path.join(dir, 'sub'))).toBe(true);
    expect(await isInsideRepo(tempDir())).toBe(false);
    expect(await isInsideRepo(path.join(tempDir(), 'missing'))).toBe(false);
  });

  it('probes a folder in one git process: in a work tree or not, where in it, and its commit', async () => {
    const dir = repo();
    const head = git(dir, 'rev-parse', 'HEAD');
    mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
    const logged = loggingGit(tempDir());
    const probe = (folder: string) => probeWorkTree(folder, { env: logged.env });
    const layout = { top: dir, commonDir: path.join(dir, '.git'), gitDir: path.join(dir, '.git') };
    expect(await probe(dir)).toEqual({ inside: true, prefix: '', head, layout: { ...layout, prefix: '' } });
    expect(logged.calls()).toHaveLength(1);
    expect(await probe(path.join(dir, 'sub', 'deeper'))).toEqual({ inside: true, prefix: 'sub/deeper/', head, layout: { ...layout, prefix: 'sub/deeper' } });
    // What repoLayout says, and, in a linked work tree, its own git folder beside the shared one.
    expect((await probe(path.join(dir, 'sub')))?.layout).toMatchObject(await repoLayout(path.join(dir, 'sub')));
    const linked = path.join(tempDir(), 'linked');
    git(dir, 'worktree', 'add', '-q', '--detach', linked);
    expect((await probe(linked)).layout).toEqual({ top: linked, commonDir: path.join(dir, '.git'), gitDir: path.join(dir, '.git', 'worktrees', 'linked'), prefix: '' });
    // A prefix it was given is what showPrefix answers, without git.
    logged.clear();
    expect(await createGit(path.join(dir, 'sub'), { env: logged.env, prefix: 'sub/' }).showPrefix()).toBe('sub/');
    expect(logged.calls()).toEqual([]);
    const unborn = tempDir();
    git(unborn, 'init', '-q');
    expect(await probe(unborn)).toMatchObject({ inside: true, prefix: '', head: null, layout: { top: unborn, prefix: '' } });
    const outside = { inside: false, prefix: '', head: null, layout: null };
    expect(await probe(path.join(dir, '.git'))).toEqual(outside);
    expect(await probe(tempDir())).toEqual(outside);
    expect(await probe(path.join(tempDir(), 'missing'))).toEqual(outside);
  });

  it('finds the root from a subfolder and names a non-repository in one line', async () => {
    const dir = repo();
    mkdirSync(path.join(dir, 'sub'));
    expect(await repoRoot(path.join(dir, 'sub'))).toBe(dir);
    const plain = tempDir();
    await expect(repoRoot(plain)).rejects.toThrow(ProjectError);
    await expect(repoRoot(plain)).rejects.toThrow(`${plain} is not inside a git repository`);
  });

  it('initialises a folder on main with everything in one commit', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'train.py': 'x\n', 'data/d.csv': '1\n', '.gitignore': 'out/\n', 'out/junk': 'j' });
    const sha = await initRepo(dir, { env: testGitEnv });
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(git(dir, 'branch', '--show-current')).toBe('main');
    expect(git(dir, 'log', '--format=%s')).toBe('initial');
    expect(git(dir, 'ls-files').split('\n').sort()).toEqual(['.gitignore', 'data/d.csv', 'train.py']);
  });
});

describe('createGit', () => {
  it('throws GitError naming the command, or returns the failure with allowFail', async () => {
    const g = gitFor(repo());
    await expect(g.run(['rev-parse', 'no-such-ref'])).rejects.toThrow(GitError);
    await expect(g.run(['rev-parse', 'no-such-ref'])).rejects.toThrow(/^git rev-parse no-such-ref failed: /);
    const result = await g.run(['rev-parse', 'no-such-ref'], { allowFail: true });
    expect(result.exitCode).not.toBe(0);
  });

  it('reads HEAD, branches and commits', async () => {
    const dir = repo();
    const g = gitFor(dir);
    const head = await g.headSha();
    expect(head).toBe(git(dir, 'rev-parse', 'HEAD'));
    expect(shortSha(head)).toBe(head.slice(0, 7));
    expect(await g.branchState('main')).toEqual({ sha: head, current: true });
    expect(await g.branchExists('crucible/run1')).toBe(false);
    await g.createBranch('crucible/run1', head);
    expect(await g.branchExists('crucible/run1')).toBe(true);
    await g.checkoutBranch('crucible/run1');
    expect(await g.branchState('crucible/run1')).toEqual({ sha: head, current: true });
    expect(await g.branchState('main')).toEqual({ sha: head, current: false });
    git(dir, 'checkout', '-q', '--detach');
    // Detached: HEAD is on no branch, though both name its commit.
    expect(await g.branchState('crucible/run1')).toEqual({ sha: head, current: false });
    expect(await g.commitExists(head)).toBe(true);
    expect(await g.commitExists('0'.repeat(40))).toBe(false);
  });

  it('lists tracked changes, staged or not, but never untracked files', async () => {
    const dir = repo({ 'a.py': '1\n', 'b.py': '1\n', 'c.py': '1\n' });
    writeFiles(dir, { 'a.py': '2\n', 'b.py': '2\n', 'notes.txt': 'mine' });
    git(dir, 'add', 'b.py');
    rmSync(path.join(dir, 'c.py'));
    expect((await gitFor(dir).uncommittedTrackedChanges()).sort()).toEqual(['a.py', 'b.py', 'c.py']);
    expect(await gitFor(repo()).uncommittedTrackedChanges()).toEqual([]);
  });

  it('commits only the given paths, new and deleted ones included, leaving the user\'s other changes alone', async () => {
    const dir = repo({ 'train.py': '1\n', 'old.py': 'x\n', 'user.py': '1\n', 'staged.py': '1\n' });
    writeFiles(dir, { 'user.py': 'user edit\n', 'staged.py': 'staged edit\n', 'train.py': '2\n', 'new dir/new.py': 'n\n' });
    git(dir, 'add', 'staged.py');
    rmSync(path.join(dir, 'old.py'));
    const sha = await gitFor(dir).commitFiles(['train.py', 'new dir/new.py', 'old.py'], 'trial 1');
    expect(sha).toBe(git(dir, 'rev-parse', 'HEAD'));
    expect(git(dir, 'show', '--name-status', '--format=', sha).split('\n').sort()).toEqual([
      'A\tnew dir/new.py',
      'D\told.py',
      'M\ttrain.py',
    ]);
    expect(git(dir, 'diff', '--cached', '--name-only')).toBe('staged.py');
    expect(git(dir, 'diff', '--name-only')).toBe('user.py');
    expect(read(dir, 'user.py')).toBe('user edit\n');
  });

  it('treats paths literally and keeps the message verbatim', async () => {
    const dir = repo({ 'a*.py': '1\n', 'ab.py': '1\n' });
    writeFiles(dir, { 'a*.py': '2\n', 'ab.py': '2\n' });
    const message = 'tab\there "double" \'single\' $HOME `cmd`\n\n# not a comment\n  indented\n';
    const sha = await gitFor(dir).commitFiles(['a*.py'], message);
    expect(git(dir, 'show', '--name-only', '--format=', sha)).toBe('a*.py');
    const raw = git(dir, 'cat-file', 'commit', sha);
    expect(raw.slice(raw.indexOf('\n\n') + 2)).toBe(message.trimEnd());
  });

  it('ignores the user\'s hooks and signing settings', async () => {
    const dir = repo();
    const hooks = path.join(dir, '.git', 'hooks');
    writeFileSync(path.join(hooks, 'pre-commit'), '#!/bin/sh\nexit 1\n');
    writeFileSync(path.join(hooks, 'post-commit'), `#!/bin/sh\ntouch "${dir}/hook-ran"\n`);
    chmodSync(path.join(hooks, 'pre-commit'), 0o755);
    chmodSync(path.join(hooks, 'post-commit'), 0o755);
    git(dir, 'config', 'commit.gpgsign', 'true');
    git(dir, 'config', 'user.signingkey', 'NO-SUCH-KEY');
    writeFiles(dir, { 'a.py': '2\n' });
    await gitFor(dir).commitFiles(['a.py'], 'x');
    expect(existsSync(path.join(dir, 'hook-ran'))).toBe(false);
  });

  it('commits as crucible when no identity is configured anywhere', async () => {
    const dir = repo();
    const home = tempDir();
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: home, XDG_CONFIG_HOME: home, GIT_CONFIG_NOSYSTEM: '1' };
    writeFiles(dir, { 'a.py': '2\n' });
    const g = createGit(dir, { env });
    const unknown = (await g.run(['var', 'GIT_AUTHOR_IDENT'], { allowFail: true })).exitCode !== 0;
    const sha = await g.commitFiles(['a.py'], 'no identity');
    const author = git(dir, 'log', '-1', '--format=%an <%ae>|%cn <%ce>', sha);
    if (unknown) expect(author).toBe('crucible <crucible@localhost>|crucible <crucible@localhost>');
  });

  it("reads git's identity from its settings where they give one, and asks git's strict check otherwise", async () => {
    const home = tempDir();
    // No system or global settings, no identity from the test's environment: each case sets its own.
    const bare: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: home, XDG_CONFIG_HOME: home, GIT_CONFIG_NOSYSTEM: '1', EMAIL: undefined };
    const strictOk = (dir: string, env: NodeJS.ProcessEnv) =>
      ['GIT_AUTHOR_IDENT', 'GIT_COMMITTER_IDENT'].every((v) => spawnSync('git', ['var', v], { cwd: dir, env, stdio: 'ignore' }).status === 0);
    const cases: Array<{ name: string; config: string[][]; env: NodeJS.ProcessEnv; oneProcess: boolean }> = [
      { name: 'user.name and user.email', config: [['user.name', 'Ada'], ['user.email', 'ada@example.com']], env: {}, oneProcess: true },
      { name: 'the variables of both roles', config: [], env: { GIT_AUTHOR_NAME: 'A', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'C', GIT_COMMITTER_EMAIL: 'c@x' }, oneProcess: true },
      { name: 'author.* and committer.* settings', config: [['author.name', 'A'], ['author.email', 'a@x'], ['committer.name', 'C'], ['committer.email', 'c@x']], env: {}, oneProcess: true },
      { name: "the author's variables alone", config: [], env: { GIT_AUTHOR_NAME: 'A', GIT_AUTHOR_EMAIL: 'a@x' }, oneProcess: false },
      { name: 'a name git strips to nothing', config: [['user.name', '..'], ['user.email', 'ada@example.com']], env: {}, oneProcess: false },
      { name: 'an empty name', config: [['user.name', ''], ['user.email', 'ada@example.com']], env: {}, oneProcess: false },
      { name: 'user.useConfigOnly', config: [['user.useConfigOnly', 'true'], ['user.name', 'Ada']], env: { EMAIL: 'ada@example.com' }, oneProcess: false },
      { name: 'nothing', config: [], env: {}, oneProcess: false },
    ];
    for (const c of cases) {
      const dir = repo();
      for (const [key, value] of c.config) git(dir, 'config', key!, value!);
      const logged = loggingGit(tempDir());
      const env = { ...bare, ...c.env, PATH: logged.env['PATH'] };
      const g = createGit(dir, { env });
      const added = await g.identityEnv();
      expect(logged.calls().length === 1, `${c.name}: ${logged.calls().join(" | ")}`).toBe(c.oneProcess);
      // What crucible decided is what git's strict check says: commits work either way.
      const gitEnv = { ...env, LC_ALL: 'C' };
      expect(Object.keys(added).length === 0, c.name).toBe(strictOk(dir, gitEnv));
      writeFiles(dir, { 'a.py': `${c.name}\n` });
      await expect(g.commitFiles(['a.py'], c.name), c.name).resolves.toMatch(/^[0-9a-f]{40}$/);
      // The settings read on the way are the ones an in-process commit uses: no second `var -l`.
      logged.clear();
      expect((await g.listVars()).stdout, c.name).toMatch(/^GIT_COMMITTER_IDENT=/m);
      if (c.oneProcess) expect(logged.calls(), c.name).toEqual([]);
    }
  });

  it("tells a branch's commit and whether HEAD is on it, in one process, and no branch from those below its name", async () => {
    const dir = repo();
    const head = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'branch', 'side');
    git(dir, 'branch', 'runs/one');
    const logged = loggingGit(tempDir());
    const g = createGit(dir, { env: logged.env });
    expect(await g.branchState('main')).toEqual({ sha: head, current: true });
    expect(logged.calls()).toHaveLength(1);
    expect(await g.branchState('side')).toEqual({ sha: head, current: false });
    expect(await g.branchState('runs')).toBeNull();
    expect(await g.branchState('missing')).toBeNull();
    git(dir, 'switch', '-q', 'runs/one');
    expect(await g.branchState('runs/one')).toEqual({ sha: head, current: true });
    expect(await g.branchState('main')).toEqual({ sha: head, current: false });
  });

  it('overwrites a tag and lists tags by prefix', async () => {
    const dir = repo();
    const g = gitFor(dir);
    const first = await g.headSha();
    writeFiles(dir, { 'a.py': '2\n' });
    const second = await g.commitFiles(['a.py'], 'two');
    await g.tagCommit('failed/run1/1', first);
    await g.tagCommit('failed/run1/1', second);
    await g.tagCommit('failed/run10/1', first);
    await g.tagCommit('other', first);
    expect(git(dir, 'rev-parse', 'failed/run1/1^{commit}')).toBe(second);
    expect(await g.listTags('failed/run1/')).toEqual(['failed/run1/1']);
    expect((await g.listTags('failed/')).sort()).toEqual(['failed/run1/1', 'failed/run10/1']);
  });

  it('moveRunBranch moves the branch back but keeps an unrelated local change, staged or not', async () => {
    const dir = repo({ 'a.py': 'a = 1\n', 'b.py': 'b = 1\n', 'c.py': 'c = 1\n' });
    const g = gitFor(dir);
    const parent = await g.headSha();
    writeFiles(dir, { 'a.py': 'trial\n' });
    const trial = await g.commitFiles(['a.py'], 'trial');
    writeFiles(dir, { 'b.py': 'user edit\n', 'c.py': 'staged edit\n', 'notes.txt': 'untracked\n' });
    git(dir, 'add', 'c.py');
    await moveRunBranch(g, 'main', trial, parent);
    expect(git(dir, 'diff', '--cached', '--name-only')).toBe('c.py');
    expect(read(dir, 'c.py')).toBe('staged edit\n');
    expect(await g.headSha()).toBe(parent);
    expect(read(dir, 'a.py')).toBe('a = 1\n');
    expect(read(dir, 'b.py')).toBe('user edit\n');
    expect(read(dir, 'notes.txt')).toBe('untracked\n');
    expect(await g.isAncestor(parent, trial)).toBe(true);
    expect(await g.isAncestor(trial, parent)).toBe(false);
  });

  it('moveRunBranch refuses to clobber a local change to a file it must restore, and moves nothing', async () => {
    const dir = repo();
    const g = gitFor(dir);
    const parent = await g.headSha();
    writeFiles(dir, { 'a.py': 'trial\n' });
    const trial = await g.commitFiles(['a.py'], 'trial');
    writeFiles(dir, { 'a.py': 'user edit\n' });
    await expect(moveRunBranch(g, 'main', trial, parent)).rejects.toThrow(GitError);
    expect(await g.headSha()).toBe(trial);
    expect(read(dir, 'a.py')).toBe('user edit\n');
  });

  it('moveRunBranch moves nothing when the branch is not where the caller says (compare-and-swap)', async () => {
    const dir = repo();
    const g = gitFor(dir);
    const parent = await g.headSha();
    writeFiles(dir, { 'a.py': 'trial\n' });
    const trial = await g.commitFiles(['a.py'], 'trial');
    writeFiles(dir, { 'a.py': 'someone else\n' });
    const other = await g.commitFiles(['a.py'], 'someone else');
    await expect(moveRunBranch(g, 'main', trial, parent)).rejects.toThrow(GitError);
    expect(await g.headSha()).toBe(other);
    expect(read(dir, 'a.py')).toBe('someone else\n');
  });

  it('diffs two commits, optionally limited to paths', async () => {
    const dir = repo();
    const g = gitFor(dir);
    const from = await g.headSha();
    writeFiles(dir, { 'a.py': 'a = 2\n', 'b.py': 'b = 2\n' });
    const to = await g.commitFiles(['a.py', 'b.py'], 'both');
    const all = await g.diffBetween(from, to);
    expect(all).toContain('+a = 2');
    expect(all).toContain('+b = 2');
    const one = await g.diffBetween(from, to, ['b.py']);
    expect(one).toContain('+b = 2');
    expect(one).not.toContain('a.py');
  });

  it('restores paths to a commit, deleting those the commit lacks', async () => {
    const dir = repo({ 'a.py': '1\n', 'b.py': '1\n', 'keep.py': '1\n' });
    const g = gitFor(dir);
    const head = await g.headSha();
    writeFiles(dir, { 'a.py': '2\n', 'new.py': 'n\n', 'keep.py': 'user\n' });
    rmSync(path.join(dir, 'b.py'));
    git(dir, 'add', 'new.py');
    await g.restorePaths(head, ['a.py', 'b.py', 'new.py']);
    expect(read(dir, 'a.py')).toBe('1\n');
    expect(read(dir, 'b.py')).toBe('1\n');
    expect(existsSync(path.join(dir, 'new.py'))).toBe(false);
    expect(read(dir, 'keep.py')).toBe('user\n');
    expect(git(dir, 'status', '--porcelain')).toBe('M keep.py');
  });

  it('commits a modification with one git process, a new file with three', async () => {
    const dir = repo();
    const logged = loggingGit(tempDir());
    const g = createGit(dir, { env: logged.env });
    await g.identityEnv();
    logged.clear();
    writeFiles(dir, { 'a.py': '2\n' });
    await g.commitFiles(['a.py'], 'modify');
    expect(logged.calls()).toHaveLength(1);
    logged.clear();
    writeFiles(dir, { 'c.py': 'new\n' });
    await g.commitFiles(['c.py'], 'add');
    expect(logged.calls()).toHaveLength(3);
  });
});

describe('a project in a subfolder of its repository', () => {
  it('names uncommitted changes and restores paths relative to the project folder', async () => {
    const dir = repo({ 'README': 'root\n', 'proj/solution.js': 'x = 1\n', 'other/file.js': 'y\n' });
    const project = path.join(dir, 'proj');
    writeFiles(dir, { 'proj/solution.js': 'x = 2\n', 'other/file.js': 'changed\n' });
    const g = gitFor(project);
    // Only the project's own files, named as the config names them.
    expect(await g.uncommittedTrackedChanges()).toEqual(['solution.js']);
    await g.restorePaths(await g.headSha(), ['solution.js']);
    expect(read(project, 'solution.js')).toBe('x = 1\n');
    expect(read(dir, 'other/file.js')).toBe('changed\n');
  });
});
