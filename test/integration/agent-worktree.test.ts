import { chmodSync, existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { openAgentWorktree, type AgentWorktree } from '../../src/workspace/agent-worktree.js';
import { repoLayout } from '../../src/workspace/project-git.js';
import { checkChanges } from '../../src/workspace/guard.js';
import { createGit } from '../../src/workspace/git.js';
import { IndexCheckout } from '../../src/workspace/index-checkout.js';
import { git, loggingGit, makeGitRepo, testGitEnv, writeFiles } from '../helpers/git-repo.js';

const SECRET = 'TOP-SECRET-7f3a';
const FILES = {
  'train.py': 'lr = 0.1\n',
  'model.py': 'layers = 2\n',
  'prepare.py': 'def load(): pass\n',
  'evaluate.py': `# ${SECRET}\nprint("score: 1")\n`,
  'tests/test_eval.py': `assert "${SECRET}"\n`,
  'key.secret': SECRET,
  '.gitignore': 'data/\n',
  '.crucible/config.yaml': 'name: t\n',
};
const policy = createAccessPolicy({
  editable: ['train.py', 'model.py', 'src/'],
  readonly: ['prepare.py', 'data/'],
  hidden: ['evaluate.py', 'tests/', '*.secret', 'data/private/'],
});

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  // Every cleanup runs, even after one fails, so no temp folder outlives a failing test.
  let failure: unknown;
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure) throw failure;
});

function tempDir(prefix = 'crucible-wt-'): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function setup(opts: { prefix?: string; files?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}) {
  const repo = makeGitRepo(opts.files ?? FILES, { prefix: opts.prefix });
  cleanups.push(repo.cleanup);
  const baseDir = tempDir(opts.prefix);
  const commit = git(repo.dir, 'rev-parse', 'HEAD');
  const open = () => openAgentWorktree({ projectDir: repo.dir, tag: 'run1', commit, policy, baseDir, env: opts.env ?? testGitEnv });
  const wt = await open();
  cleanups.push(() => wt.remove());
  return { dir: repo.dir, baseDir, commit, wt, open };
}

function listFiles(root: string, rel = ''): string[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    return e.isDirectory() ? listFiles(root, child) : [child];
  });
}

function expectNoSecretUnder(root: string): void {
  for (const rel of listFiles(root)) {
    expect(policy.classify(rel)).not.toBe('hidden');
    expect(readFileSync(path.join(root, rel), 'utf8')).not.toContain(SECRET);
  }
}

const write = (wt: AgentWorktree, files: Record<string, string>) => writeFiles(wt.root, files);

/** git in the worktree as a process that knows the project's path can reach it: crucible leaves no `.git` there. */
function worktreeGit(dir: string, wt: AgentWorktree, ...args: string[]): string {
  const records = path.join(dir, '.git', 'worktrees');
  const name = readdirSync(records).find((n) => readFileSync(path.join(records, n, 'gitdir'), 'utf8').trim() === path.join(wt.root, '.git'));
  if (!name) throw new Error(`${wt.root} is not registered in ${dir}`);
  return git(wt.root, `--git-dir=${path.join(records, name)}`, `--work-tree=${wt.root}`, ...args);
}

const registrations = (dir: string): number => git(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)?.length ?? 0;

describe('openAgentWorktree', () => {
  it('creates a worktree outside the project with every file except the hidden ones', async () => {
    const { dir, wt } = await setup();
    expect(wt.root.startsWith(dir)).toBe(false);
    expect(wt.root).toBe(realpathSync(wt.root));
    expect(listFiles(wt.root).sort()).toEqual(['.crucible/config.yaml', '.gitignore', 'model.py', 'prepare.py', 'train.py']);
    expectNoSecretUnder(wt.root);
    expect(worktreeGit(dir, wt, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(await wt.changes()).toEqual([]);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('reports modified, added, deleted and renamed files, sorted by path', async () => {
    const { wt } = await setup();
    write(wt, { 'train.py': 'lr = 0.2\n', 'src/new.py': 'x = 1\n' });
    rmSync(path.join(wt.root, 'prepare.py'));
    renameSync(path.join(wt.root, 'model.py'), path.join(wt.root, 'net.py'));
    expect(await wt.changes()).toEqual([
      { path: 'model.py', kind: 'deleted' },
      { path: 'net.py', kind: 'added' },
      { path: 'prepare.py', kind: 'deleted' },
      { path: 'src/new.py', kind: 'added' },
      { path: 'train.py', kind: 'modified' },
    ]);
  });

  it('does not report files the project ignores', async () => {
    const { wt } = await setup();
    write(wt, { '.gitignore': 'data/\n*.log\n' });
    write(wt, { 'run.log': 'noise', 'train.py': 'lr = 0.3\n' });
    expect((await wt.changes()).map((c) => c.path)).toEqual(['.gitignore', 'train.py']);
  });

  it('resets to a commit: edits undone, created files (ignored ones too) removed, hidden files still absent', async () => {
    const { wt, commit } = await setup();
    write(wt, { 'train.py': 'lr = 9\n', 'src/a/b.py': 'b\n', 'data/out.bin': 'o', 'evaluate.py': 'fake\n' });
    rmSync(path.join(wt.root, 'model.py'));
    await wt.reset(commit);
    expect(await wt.changes()).toEqual([]);
    expect(readFileSync(path.join(wt.root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    expect(existsSync(path.join(wt.root, 'model.py'))).toBe(true);
    expect(existsSync(path.join(wt.root, 'src'))).toBe(false);
    expect(existsSync(path.join(wt.root, 'data/out.bin'))).toBe(false);
    expectNoSecretUnder(wt.root);
  });

  it('reports a file created where a hidden file lives, and the guard refuses it', async () => {
    const { wt, commit } = await setup();
    write(wt, { 'evaluate.py': 'print("score: 999")\n', 'tests/test_eval.py': 'pass\n' });
    const changes = await wt.changes();
    expect(changes.map((c) => c.path)).toEqual(['evaluate.py', 'tests/test_eval.py']);
    expect(checkChanges(changes, policy)).toEqual({
      outcome: 'violation',
      reason: 'evaluate.py is hidden and may not be created or changed',
      file: 'evaluate.py',
    });
    await wt.reset(commit);
    expect(existsSync(path.join(wt.root, 'evaluate.py'))).toBe(false);
    expect(existsSync(path.join(wt.root, 'tests'))).toBe(false);
  });

  it('moves to a newer commit of the run branch without checking out hidden changes', async () => {
    const { dir, wt } = await setup();
    writeFiles(dir, { 'train.py': 'lr = 0.5\n', 'evaluate.py': `# ${SECRET} v2\n` });
    git(dir, 'commit', '-qam', 'next');
    await wt.reset(git(dir, 'rev-parse', 'HEAD'));
    expect(readFileSync(path.join(wt.root, 'train.py'), 'utf8')).toBe('lr = 0.5\n');
    expectNoSecretUnder(wt.root);
    expect(await wt.changes()).toEqual([]);
  });

  it('reports a symbolic link the agent creates as a special change', async () => {
    const { wt } = await setup();
    symlinkSync('/etc/passwd', path.join(wt.root, 'model.py.link'));
    expect(await wt.changes()).toEqual([{ path: 'model.py.link', kind: 'added', special: 'symlink' }]);
  });

  it('still compares with the reset commit when the agent stages or commits', async () => {
    const { dir, wt } = await setup();
    write(wt, { 'train.py': 'lr = 0.7\n', 'src/x.py': 'x\n' });
    worktreeGit(dir, wt, 'add', '-A');
    worktreeGit(dir, wt, 'commit', '-qm', 'agent commit');
    write(wt, { 'model.py': 'layers = 3\n' });
    expect(await wt.changes()).toEqual([
      { path: 'model.py', kind: 'modified' },
      { path: 'src/x.py', kind: 'added' },
      { path: 'train.py', kind: 'modified' },
    ]);
  });

  it('diffs modified and new files', async () => {
    const { wt } = await setup();
    write(wt, { 'train.py': 'lr = 0.2\n', 'src/new.py': 'a\nb' });
    const diff = await wt.diff();
    expect(diff).toContain('-lr = 0.1\n+lr = 0.2\n');
    expect(diff).toContain('diff --git a/src/new.py b/src/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/src/new.py\n@@ -0,0 +1,2 @@\n+a\n+b\n\\ No newline at end of file\n');
    const only = await wt.diff(['src/new.py']);
    expect(only).not.toContain('train.py');
  });

  it('copies untracked read-only files in, reports changes to them and restores them', async () => {
    const { dir, commit } = await setup({ files: { ...FILES } });
    writeFiles(dir, { 'data/train.csv': '1,2\n', 'data/sub/more.csv': '3\n', 'data/private/answers.csv': SECRET });
    const wt = await openAgentWorktree({ projectDir: dir, tag: 'data', commit, policy, baseDir: tempDir(), env: testGitEnv });
    cleanups.push(() => wt.remove());
    expect(readFileSync(path.join(wt.root, 'data/train.csv'), 'utf8')).toBe('1,2\n');
    expect(readFileSync(path.join(wt.root, 'data/sub/more.csv'), 'utf8')).toBe('3\n');
    expectNoSecretUnder(wt.root);
    expect(await wt.changes()).toEqual([]);
    write(wt, { 'data/train.csv': '9,9\n' });
    rmSync(path.join(wt.root, 'data/sub/more.csv'));
    expect(await wt.changes()).toEqual([
      { path: 'data/sub/more.csv', kind: 'deleted' },
      { path: 'data/train.csv', kind: 'modified' },
    ]);
    await wt.reset(commit);
    expect(await wt.changes()).toEqual([]);
    expect(readFileSync(path.join(wt.root, 'data/train.csv'), 'utf8')).toBe('1,2\n');
    expect(readFileSync(path.join(dir, 'data/train.csv'), 'utf8')).toBe('1,2\n');
  });

  it('replaces the worktree a killed run left with a fresh one, and copes with its folder deleted', async () => {
    const { dir, wt, open } = await setup();
    write(wt, { 'train.py': 'dirty\n' });
    // Opening again for the same tag is what the next run does after a kill.
    const again = await open();
    cleanups.push(() => again.remove());
    expect(again.root).not.toBe(wt.root);
    expect(existsSync(path.dirname(wt.root))).toBe(false);
    expect(await again.changes()).toEqual([]);
    expect(registrations(dir)).toBe(2);
    // A wiped temp folder: the registration is left, the folder is gone.
    rmSync(path.dirname(again.root), { recursive: true, force: true });
    const fresh = await open();
    cleanups.push(() => fresh.remove());
    expect(readFileSync(path.join(fresh.root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    expectNoSecretUnder(fresh.root);
    expect(registrations(dir)).toBe(2);
    await fresh.remove();
    expect(registrations(dir)).toBe(1);
  });

  it('keeps its registration through `git worktree prune`, and no `.git` in the worktree after a reset', async () => {
    const { dir, commit, wt } = await setup();
    expect(existsSync(path.join(wt.root, '.git'))).toBe(false);
    git(dir, 'worktree', 'prune');
    expect(registrations(dir)).toBe(2);
    expect(git(dir, 'worktree', 'list', '--porcelain')).toMatch(/^locked crucible agent worktree /m);
    // An agent (or `git worktree repair`) puts a pointer back: the next reset takes it away.
    writeFileSync(path.join(wt.root, '.git'), `gitdir: ${path.join(dir, '.git', 'worktrees', 'run1')}\n`);
    await wt.reset(commit);
    expect(existsSync(path.join(wt.root, '.git'))).toBe(false);
    write(wt, { 'train.py': 'lr = 0.4\n' });
    expect(await wt.changes()).toEqual([{ path: 'train.py', kind: 'modified' }]);
  });

  it('applies a changed hidden list when reopened', async () => {
    const { dir, baseDir, commit, wt } = await setup();
    const stricter = createAccessPolicy({ editable: ['train.py'], readonly: [], hidden: ['model.py'] });
    const again = await openAgentWorktree({ projectDir: dir, tag: 'run1', commit, policy: stricter, baseDir, env: testGitEnv });
    cleanups.push(() => again.remove());
    expect(path.dirname(path.dirname(again.root))).toBe(path.dirname(path.dirname(wt.root)));
    expect(existsSync(path.join(again.root, 'model.py'))).toBe(false);
    expect(readFileSync(path.join(again.root, 'evaluate.py'), 'utf8')).toContain('score');
    expect(await again.changes()).toEqual([]);
  });

  it('works when the project and worktree paths contain spaces', async () => {
    const { dir, wt } = await setup({ prefix: 'crucible wt spaces ' });
    expect(dir).toContain(' ');
    expect(wt.root).toContain(' ');
    write(wt, { 'train.py': 'lr = 0.2\n' });
    expect(await wt.changes()).toEqual([{ path: 'train.py', kind: 'modified' }]);
  });

  it('defaults to a folder under CRUCIBLE_WORKTREE_DIR, and remove() unregisters it', async () => {
    const repo = makeGitRepo(FILES);
    cleanups.push(repo.cleanup);
    const parent = tempDir();
    const env = { ...testGitEnv, CRUCIBLE_WORKTREE_DIR: parent };
    const wt = await openAgentWorktree({ projectDir: repo.dir, tag: 'a/b c', commit: 'HEAD', policy, env });
    expect(wt.root.startsWith(parent + path.sep)).toBe(true);
    await wt.remove();
    expect(existsSync(wt.root)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
    expect(git(repo.dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
  });

  it('refuses a worktree folder inside the repository', async () => {
    const repo = makeGitRepo(FILES);
    cleanups.push(repo.cleanup);
    const baseDir = path.join(repo.dir, 'wt');
    await expect(openAgentWorktree({ projectDir: repo.dir, tag: 't', commit: 'HEAD', policy, baseDir, env: testGitEnv }))
      .rejects.toThrow(/would be inside the repository/);
    expect(existsSync(baseDir)).toBe(false);
  });

  it('maps paths for a project in a subfolder of the repository', async () => {
    const repo = makeGitRepo({ 'other/x.py': 'x\n', 'exp/train.py': 'lr = 1\n', 'exp/evaluate.py': SECRET });
    cleanups.push(repo.cleanup);
    const projectDir = path.join(repo.dir, 'exp');
    const wt = await openAgentWorktree({ projectDir, tag: 'sub', commit: 'HEAD', policy, baseDir: tempDir(), env: testGitEnv });
    cleanups.push(() => wt.remove());
    expect(path.basename(wt.root)).toBe('exp');
    expect(existsSync(path.join(wt.root, 'evaluate.py'))).toBe(false);
    write(wt, { 'train.py': 'lr = 2\n' });
    writeFileSync(path.join(wt.root, '..', 'other', 'x.py'), 'changed\n');
    expect(await wt.changes()).toEqual([
      { path: '../other/x.py', kind: 'modified' },
      { path: 'train.py', kind: 'modified' },
    ]);
    expect(await wt.diff(['train.py'])).toContain('+++ b/train.py');
  });
});

describe('git processes per trial', () => {
  it('resets with two git processes, and lists changes with one when a file is new (git knows what is ignored)', async () => {
    // A wrapper on PATH counts the git processes crucible starts.
    const logged = loggingGit(tempDir());
    const { wt, commit } = await setup({ env: logged.env });
    write(wt, { 'train.py': 'lr = 0.2\n', 'src/n.py': 'n\n' });
    logged.clear();
    expect(await wt.changes()).toHaveLength(2);
    // Besides the settings, read once per worktree.
    expect(logged.calls().filter((line) => !/ var /.test(line))).toEqual([expect.stringMatching(/ status /)]);
    logged.clear();
    await wt.reset(commit);
    expect(logged.calls()).toHaveLength(2);
  });

  it('opens with a process each to add the worktree (locked as it is made) and to check it out, and cleans nothing it just made', async () => {
    const logged = loggingGit(tempDir());
    const { dir, baseDir, commit } = await setup({ env: logged.env });
    logged.clear();
    const layout = await repoLayout(dir, { env: testGitEnv });
    const second = await openAgentWorktree({ projectDir: dir, tag: 'run2', commit, policy, baseDir, env: logged.env, layout });
    cleanups.push(() => second.remove());
    const subcommand = (line: string) => / (worktree \w+|reset|clean|rev-parse|ls-files|status)\b/.exec(` ${line}`)?.[1] ?? line;
    expect(logged.calls().map(subcommand)).toEqual(['worktree add', 'reset']);
    expect(logged.calls()[0]).toMatch(/ --lock --reason crucible agent worktree /);
    const block = git(dir, 'worktree', 'list', '--porcelain').split('\n\n').find((b) => b.startsWith(`worktree ${second.root}\n`));
    expect(block).toMatch(/^locked crucible agent worktree /m);
  });

  it('takes the files an in-process backend wrote, and commits them, without a git process per trial', async () => {
    const logged = loggingGit(tempDir());
    const calls = logged.calls;
    const { dir, commit, wt } = await setup({ env: logged.env });
    write(wt, { 'train.py': 'lr = 0.2\n' });
    logged.clear();
    expect(await wt.declaredChanges(['train.py'])).toEqual([{ path: 'train.py', kind: 'modified' }]);
    expect(calls()).toEqual([]);
    const first = await wt.commit(['train.py'], 'lr 0.1 → 0.2\n');
    // Once per worktree: the identity and settings, and the tree of a commit it did not make.
    expect(calls().map((line) => / (var GIT_AUTHOR_IDENT|var -l|ls-tree) /.exec(` ${line} `)?.[1] ?? line)).toEqual(['var -l', 'ls-tree']);
    logged.clear();
    write(wt, { 'model.py': 'layers = 3\n' });
    await wt.declaredChanges(['model.py']);
    const second = await wt.commit(['model.py'], 'layers 2 → 3\n');
    expect(calls()).toEqual([]);
    expect(git(dir, 'rev-parse', `${second}^`, `${first}^`).split('\n')).toEqual([first, commit]);
    expect(git(dir, 'diff', '--name-only', first, second)).toBe('model.py');
    expect(git(dir, 'show', `${second}:train.py`)).toBe('lr = 0.2');
    expect(git(dir, 'show', `${second}:evaluate.py`)).toContain(SECRET);
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
  });
  it("remembers the tree of a scanned agent's commit: the project folder moves to it and back without git", async () => {
    const logged = loggingGit(tempDir());
    const { dir, commit, wt } = await setup({ env: logged.env });
    const checkout = await IndexCheckout.open(createGit(dir, { env: testGitEnv }), { gitDir: path.join(dir, '.git'), commonDir: path.join(dir, '.git'), top: dir }, testGitEnv);
    write(wt, { 'train.py': 'lr = 0.2\n' });
    await wt.changes();
    // A message no other test uses: a commit's id fixes its tree, and the cache of trees is shared.
    const first = await wt.commit(['train.py'], 'lr 0.1 → 0.2, scanned\n');
    expect(checkout!.move(commit, first)).toBe(true);
    expect(readFileSync(path.join(dir, 'train.py'), 'utf8')).toBe('lr = 0.2\n');
    expect(git(dir, 'ls-files', '-s', 'train.py')).toContain(git(dir, 'rev-parse', `${first}:train.py`));
    expect(checkout!.move(first, commit)).toBe(true);
    expect(readFileSync(path.join(dir, 'train.py'), 'utf8')).toBe('lr = 0.1\n');

    await wt.reset(commit, first);
    write(wt, { 'model.py': 'layers = 5\n' });
    expect(await wt.changes()).toEqual([{ path: 'model.py', kind: 'modified' }]);

    // A mode the agent changed is committed by git, whose tree is not remembered: git moves the project.
    chmodSync(path.join(wt.root, 'model.py'), 0o755);
    await wt.changes();
    const chmodded = await wt.commit(['model.py'], 'layers 2 → 5, executable\n');
    expect(git(dir, 'ls-tree', chmodded, 'model.py')).toMatch(/^100755 /);
    expect(checkout!.move(commit, chmodded)).toBe(false);
  });
});

describe('a command agent\'s worktree moved back in process', () => {
  it('after a discard: no git process in the whole trial, files and HEAD as git reset --hard leaves them, the index never written, the next scan right, no hidden file written', async () => {
    const logged = loggingGit(tempDir());
    const { dir, commit, wt } = await setup({ env: logged.env });
    // The git processes of one trial (scan, commit, move back), by subcommand.
    const trialAndBack = async (content: string) => {
      logged.clear();
      write(wt, { 'train.py': content });
      await wt.changes();
      const trial = await wt.commit(['train.py'], `lr → ${content}`);
      await wt.reset(commit, trial);
      return logged.calls().map((line) => / (status|commit|var|ls-tree|reset|clean) /.exec(` ${line} `)?.[1] ?? line);
    };
    // The first trial reads what is read once per worktree (its settings, git's identity, the
    // tree of a commit not seen made); no trial scans, commits or moves back with git.
    const first = await trialAndBack('lr = 0.7, moved back\n');
    expect(first.filter((call) => !['var', 'ls-tree'].includes(call))).toEqual([]);
    expect(readFileSync(path.join(wt.root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    // The index holds the base all along (decisions 76): neither the commit nor the way back writes it.
    const indexFile = path.join(dir, '.git', 'worktrees', 'run1', 'index');
    const indexBefore = { bytes: readFileSync(indexFile), stat: statSync(indexFile, { bigint: true }) };
    expect(await trialAndBack('lr = 0.6, moved back\n')).toEqual([]);
    expect(readFileSync(path.join(wt.root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    const indexAfter = statSync(indexFile, { bigint: true });
    expect(readFileSync(indexFile).equals(indexBefore.bytes)).toBe(true);
    expect([indexAfter.ino, indexAfter.mtimeNs]).toEqual([indexBefore.stat.ino, indexBefore.stat.mtimeNs]);
    // Index and HEAD agree.
    const inWorktree = [`--git-dir=${path.join(dir, '.git', 'worktrees', 'run1')}`, `--work-tree=${wt.root}`];
    expect(git(dir, ...inWorktree, 'rev-parse', 'HEAD')).toBe(commit);
    expect(git(dir, ...inWorktree, 'diff-index', '--cached', '--name-only', 'HEAD')).toBe('');
    expect(listFiles(wt.root).filter((f) => f === 'evaluate.py' || f.startsWith('tests/') || f.endsWith('.secret'))).toEqual([]);
    // The index is right: the next scan sees exactly the next change, and git agrees.
    write(wt, { 'model.py': 'layers = 9\n' });
    expect(await wt.changes()).toEqual([{ path: 'model.py', kind: 'modified' }]);
    const next = await wt.commit(['model.py'], 'layers 2 → 9\n');
    expect(git(dir, 'rev-parse', `${next}^`)).toBe(commit);
    expect(git(dir, 'diff', '--name-only', commit, next)).toBe('model.py');
    expect(git(dir, 'show', `${next}:train.py`)).toBe('lr = 0.1');
  });

  it('replaces a file the agent made a hard link to a file outside, never writing through it (decisions 74)', async () => {
    const { commit, wt } = await setup();
    const outside = path.join(tempDir(), 'notes.txt');
    writeFileSync(outside, 'lr = 0.5, the user\'s own file\n');
    // The agent's edit: its train.py is now another name of a file outside the worktree.
    rmSync(path.join(wt.root, 'train.py'));
    linkSync(outside, path.join(wt.root, 'train.py'));
    await wt.changes();
    const trial = await wt.commit(['train.py'], 'lr from the notes\n');
    await wt.reset(commit, trial);
    expect(readFileSync(path.join(wt.root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    expect(readFileSync(outside, 'utf8')).toBe('lr = 0.5, the user\'s own file\n');
    expect(statSync(outside).nlink).toBe(1);
  });

  it('commits a scanned edit without git: the commit `git commit -a` makes, the index and stat data as it leaves them', async () => {
    const logged = loggingGit(tempDir());
    const { dir, commit, wt } = await setup({ env: logged.env, files: { ...FILES, 'src/deep/util.py': 'def f(): pass\n' } });
    write(wt, { 'train.py': 'lr = 0.3\n', 'src/deep/util.py': 'def f(): return 3\n' });
    logged.clear();
    expect(await wt.changes()).toEqual([{ path: 'src/deep/util.py', kind: 'modified' }, { path: 'train.py', kind: 'modified' }]);
    const sha = await wt.commit(['src/deep/util.py', 'train.py'], 'two files\n');
    expect(logged.calls().filter((line) => !/ (var|ls-tree) /.test(line))).toEqual([]);
    // git's commit -a of the same change, in a clone: the same tree, parent and message.
    const clone = `${dir}-clone`;
    cleanups.push(() => rmSync(clone, { recursive: true, force: true }));
    git(path.dirname(dir), 'clone', '-q', dir, clone);
    git(clone, 'checkout', '-q', commit);
    writeFiles(clone, { 'train.py': 'lr = 0.3\n', 'src/deep/util.py': 'def f(): return 3\n' });
    git(clone, 'commit', '-qa', '--cleanup=verbatim', '-m', 'two files\n');
    expect(git(dir, 'rev-parse', `${sha}^{tree}`)).toBe(git(clone, 'rev-parse', 'HEAD^{tree}'));
    expect(git(dir, 'log', '-1', '--format=%P%n%B', sha)).toBe(git(clone, 'log', '-1', '--format=%P%n%B', 'HEAD'));
    // Before an agent's turn at the commit (the trial was kept), the index catches up, still without
    // git: it then holds the commit, with stat data git trusts, nothing staged, nothing modified.
    await wt.settle();
    expect(logged.calls().filter((line) => !/ (var|ls-tree) /.test(line))).toEqual([]);
    expect(worktreeGit(dir, wt, 'rev-parse', 'HEAD')).toBe(sha);
    expect(worktreeGit(dir, wt, 'diff-index', '--cached', '--name-only', 'HEAD')).toBe('');
    expect(worktreeGit(dir, wt, 'diff-files', '--name-only')).toBe('');
    expect(worktreeGit(dir, wt, 'ls-files', '-s', 'train.py')).toContain(git(dir, 'rev-parse', `${sha}:train.py`));
    git(dir, 'fsck', '--strict', '--no-dangling');
    // The next turn's edit is seen by the next scan, still without git.
    write(wt, { 'model.py': 'layers = 4\n' });
    expect(await wt.changes()).toEqual([{ path: 'model.py', kind: 'modified' }]);
    expect(logged.calls().filter((line) => !/ (var|ls-tree) /.test(line))).toEqual([]);
  });

  it('a file rewritten after the commit (a process the agent left behind): the next turn sees it as a change, or the way back undoes it', async () => {
    const { dir, commit, wt } = await setup();
    write(wt, { 'train.py': 'lr = 0.4\n' });
    await wt.changes();
    const kept = await wt.commit(['train.py'], 'lr 0.1 → 0.4\n');
    // Same size, same second: only the content says it changed.
    write(wt, { 'train.py': 'lr = 0.5\n' });
    await wt.settle();
    expect(worktreeGit(dir, wt, 'diff-index', '--cached', '--name-only', 'HEAD')).toBe('');
    expect(await wt.changes()).toEqual([{ path: 'train.py', kind: 'modified' }]);
    const next = await wt.commit(['train.py'], 'lr 0.4 → 0.5\n');
    expect(git(dir, 'show', `${next}:train.py`)).toBe('lr = 0.5');
    expect(git(dir, 'rev-parse', `${next}^`)).toBe(kept);
    // Not kept: the way back puts the base's content over whatever is there.
    write(wt, { 'train.py': 'lr = 0.6\n' });
    await wt.reset(commit, next);
    expect(readFileSync(path.join(wt.root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    expect(await wt.changes()).toEqual([]);
  });

  it('leaves the commit to git when the agent changed a mode, or staged something itself', async () => {
    const { dir, commit, wt } = await setup();
    write(wt, { 'model.py': 'layers = 6\n' });
    chmodSync(path.join(wt.root, 'model.py'), 0o755);
    expect(await wt.changes()).toEqual([{ path: 'model.py', kind: 'modified' }]);
    const chmodded = await wt.commit(['model.py'], 'executable\n');
    expect(git(dir, 'ls-tree', chmodded, 'model.py')).toMatch(/^100755 /);
    await wt.reset(commit, chmodded);
    // The agent runs `git add` on one file and edits another: both are the change, as git sees them.
    write(wt, { 'train.py': 'lr = 0.9\n' });
    worktreeGit(dir, wt, 'add', 'train.py');
    write(wt, { 'model.py': 'layers = 7\n' });
    expect(await wt.changes()).toEqual([{ path: 'model.py', kind: 'modified' }, { path: 'train.py', kind: 'modified' }]);
    const both = await wt.commit(['model.py', 'train.py'], 'staged and not\n');
    expect(git(dir, 'diff', '--name-only', commit, both).split('\n')).toEqual(['model.py', 'train.py']);
    expect(git(dir, 'show', `${both}:model.py`)).toBe('layers = 7');
  });

  it('leaves it to git when the worktree is not known clean at the commit it leaves', async () => {
    const logged = loggingGit(tempDir());
    const { commit, wt } = await setup({ env: logged.env });
    write(wt, { 'train.py': 'lr = 0.8\n' });
    await wt.changes();
    await wt.commit(['train.py'], 'lr 0.1 → 0.8\n');
    logged.clear();
    await wt.reset(commit); // no cleanAt: the caller does not know
    expect(logged.calls().some((line) => line.includes('reset'))).toBe(true);
    expect(readFileSync(path.join(wt.root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');

  });
});

describe('declared changes (the tuner says what it wrote)', () => {
  it('commits only the declared paths, whatever else was written in the worktree, and the reset undoes the rest', async () => {
    const { dir, commit, wt } = await setup();
    // The tuner's edit, and what something outside crucible (an experiment knowing the path)
    // wrote beside it: a read-only file changed, an editable one too.
    write(wt, { 'train.py': 'lr = 0.2\n', 'prepare.py': 'def load(): hacked\n', 'model.py': 'layers = 99\n' });
    const changes = await wt.declaredChanges(['train.py']);
    expect(checkChanges(changes, policy)).toMatchObject({ outcome: 'ok', files: ['train.py'] });
    const sha = await wt.commit(['train.py'], 'lr 0.1 → 0.2');
    expect(git(dir, 'rev-parse', `${sha}^`)).toBe(commit);
    expect(git(dir, 'diff', '--name-only', commit, sha)).toBe('train.py');
    expect(git(dir, 'show', `${sha}:prepare.py`)).toBe('def load(): pass');
    expect(git(dir, 'show', `${sha}:model.py`)).toBe('layers = 2');
    await wt.reset(commit);
    expect(readFileSync(path.join(wt.root, 'prepare.py'), 'utf8')).toBe('def load(): pass\n');
    expect(readFileSync(path.join(wt.root, 'model.py'), 'utf8')).toBe('layers = 2\n');
  });

  it('still describes a declared path that is a link (refused by the guard) or gone (deleted)', async () => {
    const { wt } = await setup();
    rmSync(path.join(wt.root, 'train.py'));
    symlinkSync('/etc/passwd', path.join(wt.root, 'train.py'));
    rmSync(path.join(wt.root, 'model.py'));
    const changes = await wt.declaredChanges(['train.py', 'model.py']);
    expect(changes).toEqual([{ path: 'model.py', kind: 'deleted' }, { path: 'train.py', kind: 'modified', special: 'symlink' }]);
    expect(checkChanges(changes, policy).outcome).toBe('violation');
  });

  it('moves back after a discard without git, and never writes a hidden file doing so', async () => {
    const { dir, commit, wt } = await setup();
    write(wt, { 'train.py': 'lr = 0.2\n' });
    await wt.declaredChanges(['train.py']);
    const first = await wt.commit(['train.py'], 'lr 0.2\n');
    await wt.reset(commit, first);
    expect(readFileSync(path.join(wt.root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    // The user commits a new harness during the run; the worktree goes there (git: the tree is
    // not in memory), a trial is committed on it, and the worktree goes back to the old commit.
    writeFileSync(path.join(dir, 'evaluate.py'), `# ${SECRET} v2\n`);
    git(dir, 'commit', '-qam', 'new harness');
    const harness = git(dir, 'rev-parse', 'HEAD');
    await wt.reset(harness);
    write(wt, { 'train.py': 'lr = 0.3\n' });
    await wt.declaredChanges(['train.py']);
    const second = await wt.commit(['train.py'], 'lr 0.3\n');
    await wt.reset(commit, second);
    expect(readFileSync(path.join(wt.root, 'train.py'), 'utf8')).toBe('lr = 0.1\n');
    expect(existsSync(path.join(wt.root, 'evaluate.py'))).toBe(false);
    expectNoSecretUnder(wt.root);
  });

  it('asks git after all when HEAD moved since the last reset', async () => {
    const { dir, wt } = await setup();
    write(wt, { 'train.py': 'lr = 0.2\n', 'model.py': 'layers = 3\n' });
    worktreeGit(dir, wt, 'commit', '-qam', 'moved');
    const changes = await wt.declaredChanges(['train.py']);
    expect(changes.map((c) => c.path)).toEqual(['model.py', 'train.py']);
  });
});

describe('commit', () => {
  it('commits exactly the given paths on the reset commit, whatever the agent did to HEAD', async () => {
    const { dir, commit, wt } = await setup();
    writeFileSync(path.join(wt.root, 'train.py'), 'lr = 0.2\n');
    writeFileSync(path.join(wt.root, 'prepare.py'), 'def load(): hacked\n');
    // An agent with a shell commits everything itself and even switches to a branch.
    worktreeGit(dir, wt, 'checkout', '-q', '-b', 'agent-branch');
    worktreeGit(dir, wt, 'commit', '-qam', 'agent commit');
    writeFileSync(path.join(wt.root, 'train.py'), 'lr = 0.3\n');

    const sha = await wt.commit(['train.py'], 'lr 0.1 → 0.3');
    expect(git(dir, 'rev-parse', `${sha}^`)).toBe(commit);
    expect(git(dir, 'diff', '--name-only', commit, sha)).toBe('train.py');
    expect(git(dir, 'show', `${sha}:train.py`)).toBe('lr = 0.3');
    expect(git(dir, 'show', `${sha}:prepare.py`)).toBe('def load(): pass');
    expect(git(dir, 'log', '-1', '--format=%s', sha)).toBe('lr 0.1 → 0.3');
  });
});
