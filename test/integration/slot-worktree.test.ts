import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ProjectError } from '../../src/errors.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { openSlots, removeStaleSlots, type SlotWorktree } from '../../src/workspace/slot-worktree.js';
import { git, makeGitRepo, testGitEnv, writeFiles } from '../helpers/git-repo.js';

const FILES = {
  'train.py': 'lr = 0.1\n',
  'evaluate.py': 'print("score: 1")\n',
  'tests/case1.txt': 'one\n',
  'data/README': 'the data set goes here\n',
  '.gitignore': '*.log\ncache/\n',
  '.crucible/config.yaml': 'name: t\n',
};
const policy = createAccessPolicy({ editable: ['train.py'], readonly: ['data/'], hidden: ['evaluate.py', 'tests/'] });

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function repo(files: Record<string, string> = FILES, untracked: Record<string, string> = {}) {
  const r = makeGitRepo(files);
  cleanups.push(r.cleanup);
  writeFiles(r.dir, untracked);
  return { dir: r.dir, commit: git(r.dir, 'rev-parse', 'HEAD') };
}

async function open(projectDir: string, count: number, commit = 'HEAD', shared: readonly string[] = []): Promise<SlotWorktree[]> {
  const slots = await openSlots({ projectDir, count, commit, shared, env: testGitEnv });
  cleanups.push(async () => {
    for (const slot of slots) await slot.remove().catch(() => undefined);
  });
  return slots;
}

/** Every file below `root` except the slot's `.git`, sorted, links shown as "name -> target". */
function tree(root: string, rel = ''): string[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true })
    .flatMap((e) => {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (child === '.git') return [];
      if (e.isSymbolicLink()) return [`${child} -> ${readlinkSync(path.join(root, child))}`];
      return e.isDirectory() ? tree(root, child) : [child];
    })
    .sort();
}

const commitOf = (dir: string, files: Record<string, string>, message: string): string => {
  writeFiles(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
};

describe('openSlots', () => {
  it('gives each of N slots a full checkout (hidden files too) under .crucible/slots/<k>, out of the way of git status and git add -A', async () => {
    const { dir, commit } = repo(FILES, { 'notes.txt': 'mine\n' });
    const slots = await open(dir, 4, commit);
    expect(slots.map((s) => [s.index, s.dir])).toEqual([1, 2, 3, 4].map((k) => [k, path.join(dir, '.crucible', 'slots', String(k))]));
    for (const slot of slots) {
      expect(realpathSync(slot.dir)).toBe(slot.dir);
      expect(tree(slot.dir)).toEqual(['.crucible/config.yaml', '.gitignore', 'data/README', 'evaluate.py', 'tests/case1.txt', 'train.py']);
    }
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('?? notes.txt');
    expect(git(dir, 'add', '-A', '--dry-run')).toBe("add 'notes.txt'");
    // Registered and locked: `git worktree prune` leaves them alone.
    git(dir, 'worktree', 'prune');
    expect(git(dir, 'worktree', 'list', '--porcelain').match(/^locked/gm)).toHaveLength(4);
  });

  it('adds its ignore line once to the common info/exclude, and commits nothing', async () => {
    const { dir } = repo();
    const head = git(dir, 'rev-parse', 'HEAD');
    await (await open(dir, 1))[0]!.remove();
    await open(dir, 2);
    expect(readFileSync(path.join(dir, '.git', 'info', 'exclude'), 'utf8').split('\n').filter((l) => l === '/.crucible/slots/')).toHaveLength(1);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('links files.shared entries that exist into every slot (relative links), skipping missing ones', async () => {
    const { dir } = repo(FILES, { '.venv/bin/python': '#!/bin/sh\n', 'data/big.bin': 'xyz', 'weights/w.bin': 'w' });
    const [one, two] = await open(dir, 2, 'HEAD', ['.venv', 'node_modules', 'data/big.bin', './weights/']);
    for (const slot of [one!, two!]) {
      expect(readlinkSync(path.join(slot.dir, '.venv'))).toBe('../../../.venv');
      expect(readlinkSync(path.join(slot.dir, 'data/big.bin'))).toBe('../../../../data/big.bin');
      expect(readFileSync(path.join(slot.dir, 'weights/w.bin'), 'utf8')).toBe('w');
      expect(existsSync(path.join(slot.dir, 'node_modules'))).toBe(false);
    }
  });

  it('refuses a shared entry git tracks, or one outside the project, in one line (ConfigError), opening nothing', async () => {
    const { dir } = repo();
    await expect(openSlots({ projectDir: dir, count: 2, commit: 'HEAD', shared: ['data'], env: testGitEnv })).rejects.toThrow(ConfigError);
    await expect(openSlots({ projectDir: dir, count: 2, commit: 'HEAD', shared: ['data'], env: testGitEnv })).rejects.toThrow(/files.shared: "data" holds files git tracks/);
    await expect(openSlots({ projectDir: dir, count: 2, commit: 'HEAD', shared: ['../elsewhere'], env: testGitEnv })).rejects.toThrow(/must name a file or folder inside the project/);
    expect(existsSync(path.join(dir, '.crucible', 'slots'))).toBe(false);
    expect(git(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
  });

  it('works for a project in a subfolder of its repository', async () => {
    const r = makeGitRepo({ 'README.md': 'top\n', ...Object.fromEntries(Object.entries(FILES).map(([k, v]) => [`lab/exp/${k}`, v])) });
    cleanups.push(r.cleanup);
    const dir = path.join(r.dir, 'lab', 'exp');
    writeFiles(dir, { '.venv/x': 'v' });
    const [slot] = await open(dir, 1, 'HEAD', ['.venv']);
    expect(slot!.dir).toBe(path.join(dir, '.crucible', 'slots', '1', 'lab', 'exp'));
    expect(tree(slot!.dir)).toEqual(['.crucible/config.yaml', '.gitignore', '.venv -> ../../../../../.venv', 'data/README', 'evaluate.py', 'tests/case1.txt', 'train.py']);
    expect(readFileSync(path.join(slot!.dir, '.venv', 'x'), 'utf8')).toBe('v');
    expect(readFileSync(path.join(r.dir, '.git', 'info', 'exclude'), 'utf8')).toContain('/lab/exp/.crucible/slots/\n');
    expect(git(r.dir, 'status', '--porcelain', '--untracked-files=all')).toBe('?? lab/exp/.venv/x');
    writeFileSync(path.join(slot!.dir, 'tests', 'case2.txt'), 'planted\n');
    expect(await slot!.changedProtected(policy)).toEqual(['tests/case2.txt']);
  });

  it('works for a project that is itself a linked worktree', async () => {
    const { dir } = repo();
    const linked = `${dir}-linked`;
    cleanups.push(() => rmSync(linked, { recursive: true, force: true }));
    git(dir, 'worktree', 'add', '-q', '-b', 'other', linked);
    const commit = commitOf(linked, { 'train.py': 'lr = 0.2\n' }, 'on other');
    const [slot] = await open(linked, 2, commit);
    expect(slot!.dir).toBe(path.join(linked, '.crucible', 'slots', '1'));
    expect(readFileSync(path.join(slot!.dir, 'train.py'), 'utf8')).toBe('lr = 0.2\n');
    expect(git(linked, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });
});

describe('a slot', () => {
  it('checkout() makes it hold exactly another commit: what git does not ignore is removed, ignored files and shared links stay', async () => {
    const { dir, commit } = repo();
    const next = commitOf(dir, { 'train.py': 'lr = 0.3\n', 'model.py': 'layers = 2\n' }, 'next');
    writeFiles(dir, { '.venv/lib': 'l' });
    const [slot] = await open(dir, 1, commit, ['.venv']);
    writeFileSync(path.join(slot!.dir, 'evaluate.py'), 'print("score: 999")\n');
    writeFileSync(path.join(slot!.dir, 'stray.txt'), 'left by the experiment\n');
    writeFileSync(path.join(slot!.dir, 'run.log'), 'ignored output\n');
    await slot!.checkout(next);
    expect(tree(slot!.dir)).toEqual(['.crucible/config.yaml', '.gitignore', '.venv -> ../../../.venv', 'data/README', 'evaluate.py', 'model.py', 'run.log', 'tests/case1.txt', 'train.py']);
    expect(readFileSync(path.join(slot!.dir, 'evaluate.py'), 'utf8')).toBe('print("score: 1")\n');
    expect(readFileSync(path.join(slot!.dir, 'train.py'), 'utf8')).toBe('lr = 0.3\n');
  });

  it('checkout() puts back a shared link an experiment removed or replaced by a folder of its own', async () => {
    const { dir } = repo(FILES, { '.venv/lib': 'project venv' });
    const [slot] = await open(dir, 1, 'HEAD', ['.venv']);
    rmSync(path.join(slot!.dir, '.venv'));
    writeFiles(slot!.dir, { '.venv/lib': 'planted venv' });
    await slot!.checkout(git(dir, 'rev-parse', 'HEAD'));
    expect(lstatSync(path.join(slot!.dir, '.venv')).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(slot!.dir, '.venv', 'lib'), 'utf8')).toBe('project venv');
    expect(readFileSync(path.join(dir, '.venv', 'lib'), 'utf8')).toBe('project venv');
  });

  it('changedProtected() names modified, deleted and new protected files (ignored ones too), not editable or volatile ones; the next checkout removes the new ones', async () => {
    const { dir, commit } = repo();
    const [slot] = await open(dir, 1, commit);
    writeFileSync(path.join(slot!.dir, 'evaluate.py'), 'print("score: 999")\n');
    rmSync(path.join(slot!.dir, 'data', 'README'));
    writeFiles(slot!.dir, {
      'tests/case9.txt': 'planted\n',
      'tests/cache/hit.bin': 'ignored, planted\n',
      'tests/harness.log': 'the harness writes this every time\n',
      'train.py': 'lr = 9\n',
      'scratch.txt': 'not protected\n',
    });
    expect(await slot!.changedProtected(policy, ['tests/harness.log'])).toEqual(['data/README', 'evaluate.py', 'tests/cache/hit.bin', 'tests/case9.txt']);
    await slot!.checkout(commit);
    expect(await slot!.changedProtected(policy, ['tests/harness.log'])).toEqual([]);
    expect(existsSync(path.join(slot!.dir, 'tests/cache/hit.bin'))).toBe(false);
    expect(existsSync(path.join(slot!.dir, 'tests/harness.log'))).toBe(true);
  });

  it('changedProtected() is empty, without running git, when nothing is protected', async () => {
    const { dir } = repo();
    const [slot] = await open(dir, 1);
    writeFileSync(path.join(slot!.dir, 'evaluate.py'), 'changed\n');
    expect(await slot!.changedProtected(createAccessPolicy({ editable: ['train.py'], readonly: [], hidden: [] }))).toEqual([]);
  });

  it('remove() deletes the folder and its registration; removeStaleSlots() does the same for what a killed run left', async () => {
    const { dir } = repo();
    const [one, two] = await open(dir, 2);
    await one!.remove();
    expect(existsSync(one!.dir)).toBe(false);
    expect(existsSync(two!.dir)).toBe(true);
    await removeStaleSlots(dir, testGitEnv);
    expect(readdirSync(path.join(dir, '.crucible', 'slots'))).toEqual([]);
    expect(git(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    // Opening again after a kill: the killed run's slots are replaced.
    await open(dir, 2);
    const again = await open(dir, 3);
    expect(again.map((s) => s.index)).toEqual([1, 2, 3]);
    expect(git(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(4);
  });

  it('refuses to open where something that is not one of its slots stands, leaving it as it is', async () => {
    const { dir } = repo();
    writeFiles(dir, { '.crucible/slots/2/mine.txt': 'not a slot\n' });
    await expect(openSlots({ projectDir: dir, count: 2, commit: 'HEAD', shared: [], env: testGitEnv })).rejects.toThrow(ProjectError);
    expect(readFileSync(path.join(dir, '.crucible/slots/2/mine.txt'), 'utf8')).toBe('not a slot\n');
    expect(existsSync(path.join(dir, '.crucible/slots/1'))).toBe(false);
    expect(git(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
  });

  it('removeStaleSlots() drops the registrations of slots whose folder the user deleted', async () => {
    const { dir } = repo();
    await open(dir, 2);
    rmSync(path.join(dir, '.crucible', 'slots'), { recursive: true });
    await removeStaleSlots(dir, testGitEnv);
    expect(git(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
  });

  // As root, missing write permission does not stop rm: there is nothing to see.
  it.skipIf(process.getuid?.() === 0)('survives an experiment that left folders without write permission', async () => {
    const { dir } = repo();
    const [slot] = await open(dir, 1);
    mkdirSync(path.join(slot!.dir, 'cache', 'deep'), { recursive: true });
    writeFileSync(path.join(slot!.dir, 'cache', 'deep', 'f'), 'x');
    execFileSync('chmod', ['-R', 'a-w', path.join(slot!.dir, 'cache')]);
    await slot!.remove();
    expect(existsSync(slot!.dir)).toBe(false);
  });
});
