import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGit } from '../../src/workspace/git.js';
import { InProcessCommitter, type FileChange } from '../../src/workspace/in-process-commit.js';
import { git, loggingGit, makeGitRepo, testGitEnv } from '../helpers/git-repo.js';

/**
 * Commits written without git must be the commits git would write: the same trees (entry order,
 * modes, folders emptied by a deletion), objects `git fsck --strict` accepts, HEAD moved only
 * from where it was. Each case is committed both ways and the trees compared.
 */

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

// Names whose order differs between plain byte order and git's (a folder sorts as "name/").
const FILES: Record<string, string> = {
  'a.txt': 'a\n',
  'a-b': 'dash\n',
  'a/inner.js': 'export const X = 1;\n',
  'a/deep/only.js': 'only\n',
  'a0': 'zero\n',
  'résumé/ü.js': 'unicode\n',
  'tool.sh': '#!/bin/sh\necho 1\n',
  'z.js': 'z\n',
};

function repo(files: Record<string, string> = FILES) {
  const r = makeGitRepo(files);
  cleanups.push(r.cleanup);
  chmodSync(path.join(r.dir, 'tool.sh'), 0o755);
  git(r.dir, 'add', '-A');
  git(r.dir, 'commit', '-qm', 'modes');
  git(r.dir, 'checkout', '-q', '--detach');
  return r.dir;
}

async function committer(dir: string, env: NodeJS.ProcessEnv = testGitEnv): Promise<InProcessCommitter | null> {
  return InProcessCommitter.open(createGit(dir, { env }), path.join(dir, '.git'), path.join(dir, '.git'), env);
}

/** The same change committed by git, in a clone: its tree's sha. */
function treeByGit(dir: string, base: string, changes: readonly FileChange[]): string {
  const clone = `${dir}-clone`;
  git(path.dirname(dir), 'clone', '-q', '--no-checkout', dir, clone);
  cleanups.push(() => rmSync(clone, { recursive: true, force: true }));
  git(clone, 'checkout', '-q', '--detach', base);
  for (const change of changes) {
    if (change.content === null) git(clone, 'rm', '-q', '--', change.path);
    else {
      writeFileSync(path.join(clone, change.path), change.content);
      git(clone, 'add', '--', change.path);
    }
  }
  git(clone, 'commit', '-qm', 'by git');
  return git(clone, 'rev-parse', 'HEAD^{tree}');
}

describe('commits written in process', () => {
  it('give the tree git gives, for a nested change, a deletion that empties a folder and an executable file', async () => {
    const dir = repo();
    const base = git(dir, 'rev-parse', 'HEAD');
    const c = await committer(dir);
    expect(c).not.toBeNull();
    const changes: FileChange[] = [
      { path: 'a/inner.js', content: Buffer.from('export const X = 2;\n') },
      { path: 'a/deep/only.js', content: null },
      { path: 'tool.sh', content: Buffer.from('#!/bin/sh\necho 2\n') },
      { path: 'résumé/ü.js', content: Buffer.from('changed\n') },
    ];
    const sha = (await c!.commit(base, changes, 'three changes\n\ncrucible-trial: 1\n'))!;
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(git(dir, 'rev-parse', `${sha}^{tree}`)).toBe(treeByGit(dir, base, changes));
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(sha);
    expect(git(dir, 'rev-parse', `${sha}^`)).toBe(base);
    expect(git(dir, 'log', '-1', '--format=%an <%ae>|%cn <%ce>|%B', sha)).toBe('Test <test@example.com>|Test <test@example.com>|three changes\n\ncrucible-trial: 1');
    expect(git(dir, 'ls-tree', sha, 'tool.sh')).toMatch(/^100755 /);
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('builds on its own commits without asking git again, and they stay what git would make', async () => {
    const dir = repo();
    const base = git(dir, 'rev-parse', 'HEAD');
    // A git on PATH that logs each process crucible starts.
    const logged = loggingGit(path.join(dir, '.git'));
    const c = (await committer(dir, logged.env))!;
    const one = await c.commit(base, [{ path: 'z.js', content: Buffer.from('z1\n') }], 'one\n');
    logged.clear();
    const two = await c.commit(one!, [{ path: 'a/inner.js', content: Buffer.from('two\n') }], 'two\n');
    expect(two).not.toBeNull();
    expect(logged.calls()).toEqual([]);
    const changes = [{ path: 'z.js', content: Buffer.from('z1\n') }, { path: 'a/inner.js', content: Buffer.from('two\n') }];
    expect(git(dir, 'rev-parse', `${two}^{tree}`)).toBe(treeByGit(dir, base, changes));
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('writes an object into a folder git removed since (a gc packs the loose objects and prunes their folders)', async () => {
    const dir = repo();
    const base = git(dir, 'rev-parse', 'HEAD');
    const c = (await committer(dir))!;
    const one = await c.commit(base, [{ path: 'z.js', content: Buffer.from('back again\n') }], 'one\n');
    const two = await c.commit(one!, [{ path: 'z.js', content: Buffer.from('z2\n') }], 'two\n');
    git(dir, 'gc', '-q', '--prune=now');
    const blob = git(dir, 'rev-parse', `${one}:z.js`);
    expect(() => statSync(path.join(dir, '.git', 'objects', blob.slice(0, 2)))).toThrow();
    // The same content again: its blob's folder is one this process made, and git removed.
    const three = await c.commit(two!, [{ path: 'z.js', content: Buffer.from('back again\n') }], 'three\n');
    expect(three).not.toBeNull();
    expect(git(dir, 'rev-parse', `${three}:z.js`)).toBe(blob);
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('leaves to git (null, HEAD unmoved) a new file, a link, a HEAD that moved and a HEAD lock held', async () => {
    const dir = repo();
    symlinkSync('z.js', path.join(dir, 'link'));
    git(dir, 'add', 'link');
    git(dir, 'commit', '-qm', 'link');
    const base = git(dir, 'rev-parse', 'HEAD');
    const c = (await committer(dir))!;
    expect(await c.commit(base, [{ path: 'new.js', content: Buffer.from('n\n') }], 'new\n')).toBeNull();
    expect(await c.commit(base, [{ path: 'link', content: Buffer.from('x\n') }], 'link\n')).toBeNull();
    expect(await c.commit(base, [{ path: 'a', content: Buffer.from('x\n') }], 'a folder\n')).toBeNull();
    expect(await c.commit(base, [{ path: 'a/../z.js', content: Buffer.from('x\n') }], 'dots\n')).toBeNull();
    const parent = git(dir, 'rev-parse', 'HEAD^');
    expect(await c.commit(parent, [{ path: 'z.js', content: Buffer.from('x\n') }], 'not at HEAD\n')).toBeNull();
    writeFileSync(path.join(dir, '.git', 'HEAD.lock'), '');
    expect(await c.commit(base, [{ path: 'z.js', content: Buffer.from('x\n') }], 'locked\n')).toBeNull();
    expect(readFileSync(path.join(dir, '.git', 'HEAD.lock'), 'utf8')).toBe('');
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(base);
  });

  it('is not used where git writes differently: a shared repository, a commit encoding, fixed dates, another object folder', async () => {
    const dir = repo();
    expect(await committer(dir, { ...testGitEnv, GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z' })).toBeNull();
    expect(await committer(dir, { ...testGitEnv, GIT_OBJECT_DIRECTORY: path.join(dir, '.git', 'objects') })).toBeNull();
    git(dir, 'config', 'i18n.commitEncoding', 'ISO-8859-1');
    expect(await committer(dir)).toBeNull();
    git(dir, 'config', '--unset', 'i18n.commitEncoding');
    git(dir, 'config', 'core.sharedRepository', 'group');
    expect(await committer(dir)).toBeNull();
    git(dir, 'config', '--unset', 'core.sharedRepository');
    expect(await committer(dir)).not.toBeNull();
    // A reftable repository (git 2.45 and later) keeps HEAD elsewhere than the HEAD file.
    mkdirSync(path.join(dir, '.git', 'reftable'));
    expect(await committer(dir)).toBeNull();
  });

  it('leaves to git a tree whose attributes could convert what is committed (a clean filter, end of lines)', async () => {
    const dir = repo({ ...FILES, '.gitattributes': '*.js filter=upper\n' });
    // A clean filter git runs on commit: the blob is not the file's bytes.
    git(dir, 'config', 'filter.upper.clean', 'tr a-z A-Z');
    git(dir, 'config', 'filter.upper.smudge', 'cat');
    const base = git(dir, 'rev-parse', 'HEAD');
    const c = (await committer(dir))!;
    expect(c).not.toBeNull();
    expect(await c.commit(base, [{ path: 'z.js', content: Buffer.from('lower\n') }], 'filtered\n')).toBeNull();
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(base);
  });

  it('is not used under core.autocrlf, or with an attributes file of the repository or the user', async () => {
    const dir = repo();
    git(dir, 'config', 'core.autocrlf', 'input');
    expect(await committer(dir)).toBeNull();
    git(dir, 'config', 'core.autocrlf', 'false');
    expect(await committer(dir)).not.toBeNull();
    mkdirSync(path.join(dir, '.git', 'info'), { recursive: true });
    writeFileSync(path.join(dir, '.git', 'info', 'attributes'), '*.js text eol=crlf\n');
    expect(await committer(dir)).toBeNull();
    rmSync(path.join(dir, '.git', 'info', 'attributes'));
    const home = `${dir}-home`;
    mkdirSync(path.join(home, '.config', 'git'), { recursive: true });
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    writeFileSync(path.join(home, '.config', 'git', 'attributes'), '*.js filter=lfs\n');
    expect(await committer(dir, { ...testGitEnv, HOME: home, XDG_CONFIG_HOME: '' })).toBeNull();
  });

  it('moves the worktree back to a commit it knows, as reset --hard would, without git', async () => {
    const dir = repo();
    const base = git(dir, 'rev-parse', 'HEAD');
    const logged = loggingGit(path.join(dir, '.git'));
    const c = (await committer(dir, logged.env))!;
    writeFileSync(path.join(dir, 'a/inner.js'), 'tuned\n');
    writeFileSync(path.join(dir, 'tool.sh'), '#!/bin/sh\necho tuned\n');
    const trial = (await c.commit(base, [{ path: 'a/inner.js', content: Buffer.from('tuned\n') }, { path: 'tool.sh', content: Buffer.from('#!/bin/sh\necho tuned\n') }], 't\n'))!;
    logged.clear();
    expect(c.checkout(trial, base, dir, () => true)).toBe(true);
    expect(logged.calls()).toEqual([]);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(base);
    expect(readFileSync(path.join(dir, 'a/inner.js'), 'utf8')).toBe('export const X = 1;\n');
    expect(statSync(path.join(dir, 'tool.sh')).mode & 0o111).not.toBe(0);
    // What git sees: the files are the base's (the index is refreshed by the status itself).
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('leaves the move to git (false, nothing moved) for a file it may not write, a packed blob or a tree it does not know', async () => {
    const dir = repo();
    const base = git(dir, 'rev-parse', 'HEAD');
    const c = (await committer(dir))!;
    const trial = (await c.commit(base, [{ path: 'z.js', content: Buffer.from('z2\n') }], 't\n'))!;
    expect(c.checkout(trial, base, dir, (file) => file !== 'z.js')).toBe(false);
    expect(c.checkout(trial, git(dir, 'rev-parse', 'HEAD~2'), dir, () => true)).toBe(false);
    git(dir, 'repack', '-adq');
    git(dir, 'prune-packed');
    expect(c.checkout(trial, base, dir, () => true)).toBe(false);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(trial);
  });
});

