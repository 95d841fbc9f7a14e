import { chmodSync, closeSync, existsSync, fstatSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGit } from '../../src/workspace/git.js';
import { IndexCheckout } from '../../src/workspace/index-checkout.js';
import { InProcessCommitter, type FileChange } from '../../src/workspace/in-process-commit.js';
import { git, makeGitRepo, testGitEnv } from '../helpers/git-repo.js';

/**
 * The project folder's move between two commits, done in process, must leave exactly what
 * `git read-tree -m -u from to` leaves: the same files and modes, the same index entries, stat
 * data git trusts, a cache tree that never hands back the old folder, the user's other staged
 * changes carried; and where git would refuse, or anything is unusual, nothing changed at all.
 * Each case is done both ways, git's in a clone, and compared.
 */

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const FILES: Record<string, string> = {
  'a.txt': 'a\n',
  'a/inner.js': 'export const X = 1;\n',
  'a/deep/only.js': 'only\n',
  'b/other.js': 'other\n',
  'tool.sh': '#!/bin/sh\necho 1\n',
  'z.js': 'z\n',
};

const CHANGES: FileChange[] = [
  { path: 'a/deep/only.js', content: Buffer.from('changed deep\n') },
  { path: 'tool.sh', content: Buffer.from('#!/bin/sh\necho 2\n') },
];

/**
 * A repository on `main` (the project folder) and, in a linked worktree, a commit `to` made in
 * process on top of `from` (so both trees are remembered, as in a run).
 */
async function setup(changes: readonly FileChange[] = CHANGES, configure?: (dir: string) => void) {
  const r = makeGitRepo(FILES);
  cleanups.push(r.cleanup);
  const dir = r.dir;
  chmodSync(path.join(dir, 'tool.sh'), 0o755);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'modes');
  configure?.(dir);
  const from = git(dir, 'rev-parse', 'HEAD');
  const wt = `${dir}-wt`;
  git(dir, 'worktree', 'add', '-q', '--detach', wt, from);
  cleanups.push(() => rmSync(wt, { recursive: true, force: true }));
  const wtGitDir = git(wt, 'rev-parse', '--absolute-git-dir');
  const committer = await InProcessCommitter.open(createGit(wt, { env: testGitEnv }), wtGitDir, path.join(dir, '.git'), testGitEnv);
  expect(committer).not.toBeNull();
  const to = (await committer!.commit(from, changes, 'trial\n'))!;
  expect(to).toMatch(/^[0-9a-f]{40}$/);
  const checkout = await IndexCheckout.open(createGit(dir, { env: testGitEnv }), { gitDir: path.join(dir, '.git'), commonDir: path.join(dir, '.git'), top: dir }, testGitEnv);
  return { dir, from, to, checkout };
}

/** The same move done by git, in a clone at `from` prepared by `prepare`. */
function movedByGit(dir: string, from: string, to: string, prepare?: (clone: string) => void): string {
  const clone = `${dir}-clone`;
  git(path.dirname(dir), 'clone', '-q', dir, clone);
  cleanups.push(() => rmSync(clone, { recursive: true, force: true }));
  git(clone, 'checkout', '-q', from);
  git(clone, 'fetch', '-q', dir, to);
  prepare?.(clone);
  git(clone, 'read-tree', '-m', '-u', from, to);
  return clone;
}

const indexBytes = (dir: string) => readFileSync(path.join(dir, '.git', 'index'));

describe('the project folder moved in process', () => {
  it('holds the files, modes and index entries git read-tree gives, with stat data git trusts', async () => {
    const { dir, from, to, checkout } = await setup();
    expect(checkout).not.toBeNull();
    // Old stat data in the index, so that an entry not updated would show.
    for (const file of Object.keys(FILES)) utimesSync(path.join(dir, file), 1e9, 1e9);
    git(dir, 'update-index', '--refresh');
    git(dir, 'write-tree'); // a full cache tree, as after a commit
    expect(checkout!.move(from, to)).toBe(true);
    const clone = movedByGit(dir, from, to);

    expect(git(dir, 'ls-files', '-s')).toBe(git(clone, 'ls-files', '-s'));
    for (const file of Object.keys(FILES)) expect(readFileSync(path.join(dir, file), 'utf8'), file).toBe(readFileSync(path.join(clone, file), 'utf8'));
    expect(statSync(path.join(dir, 'tool.sh')).mode & 0o111).not.toBe(0);
    // diff-files does not refresh: an entry whose stat data is not the file's would be listed.
    expect(git(dir, 'diff-files', '--name-only')).toBe('');
    // The cache tree must not hand back the old a/ or a/deep/: what gets committed next is `to`'s tree.
    expect(git(dir, 'write-tree')).toBe(git(dir, 'rev-parse', `${to}^{tree}`));
    git(dir, 'update-ref', 'HEAD', to);
    expect(git(dir, 'status', '--porcelain')).toBe('');
    expect(existsSync(path.join(dir, '.git', 'index.lock'))).toBe(false);
    git(dir, 'fsck', '--strict');
  });

  it("makes the project's index anew at every move, never from a kept inode (a power cut finds it old or new)", async () => {
    const { dir, from, to, checkout } = await setup();
    const index = path.join(dir, '.git', 'index');
    let at = from;
    for (let n = 0; n < 6; n++) {
      // Held open, the index's inode cannot be freed and its number used again.
      const held = openSync(index, 'r');
      try {
        const next = at === from ? to : from;
        expect(checkout!.move(at, next)).toBe(true);
        at = next;
        expect(statSync(index).ino).not.toBe(fstatSync(held).ino);
      } finally {
        closeSync(held);
      }
    }
    expect(existsSync(path.join(dir, '.git', 'crucible-spares'))).toBe(false);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('reads the index again when anyone else wrote it since its last move: what the user staged between two moves is kept', async () => {
    const { dir, from, to, checkout } = await setup();
    const stage = (d: string, content: string) => {
      writeFileSync(path.join(d, 'b/other.js'), content);
      git(d, 'add', 'b/other.js');
    };
    stage(dir, 'OTHER1\n');
    expect(checkout!.move(from, to)).toBe(true);
    // git rewrites the index to the same size (b's cache tree was invalid already): only the
    // checksum tells that it is not the index crucible wrote.
    const size = statSync(path.join(dir, '.git', 'index')).size;
    stage(dir, 'OTHER2\n');
    expect(statSync(path.join(dir, '.git', 'index')).size).toBe(size);
    expect(checkout!.move(to, from)).toBe(true);
    expect(git(dir, 'show', ':b/other.js')).toBe('OTHER2');
    expect(git(dir, 'diff-files', '--name-only')).toBe('');
    // Moved on from the index it wrote itself: the same entries git gives.
    expect(checkout!.move(from, to)).toBe(true);
    const clone = movedByGit(dir, from, to, (c) => stage(c, 'OTHER2\n'));
    expect(git(dir, 'ls-files', '-s')).toBe(git(clone, 'ls-files', '-s'));
    git(dir, 'fsck', '--strict');
  });

  it("carries the user's staged change to another file forward, as git does", async () => {
    const { dir, from, to, checkout } = await setup();
    const stage = (d: string) => {
      writeFileSync(path.join(d, 'b/other.js'), 'staged by the user\n');
      git(d, 'add', 'b/other.js');
    };
    stage(dir);
    expect(checkout!.move(from, to)).toBe(true);
    const clone = movedByGit(dir, from, to, stage);
    expect(git(dir, 'ls-files', '-s')).toBe(git(clone, 'ls-files', '-s'));
    git(dir, 'update-ref', 'HEAD', to);
    expect(git(dir, 'diff', '--cached', '--name-only')).toBe('b/other.js');
    expect(git(dir, 'status', '--porcelain')).toBe('M  b/other.js');
  });

  it('keeps the untracked cache right: files created beside the changed ones are still listed', async () => {
    const { dir, from, to, checkout } = await setup(CHANGES, (d) => git(d, 'config', 'core.untrackedCache', 'true'));
    writeFileSync(path.join(dir, 'a', 'deep', 'notes.txt'), 'untracked\n');
    git(dir, 'update-index', '--untracked-cache');
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('?? a/deep/notes.txt');
    expect(checkout!.move(from, to)).toBe(true);
    writeFileSync(path.join(dir, 'b', 'new.txt'), 'untracked too\n');
    git(dir, 'update-ref', 'HEAD', to);
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all').split('\n').sort()).toEqual(['?? a/deep/notes.txt', '?? b/new.txt']);
  });

  it('carries the flags of entries it does not update (skip-worktree, assume-unchanged), as git does', async () => {
    const { dir, from, to, checkout } = await setup();
    const flag = (d: string) => {
      git(d, 'update-index', '--skip-worktree', 'z.js');
      git(d, 'update-index', '--assume-unchanged', 'a.txt');
    };
    flag(dir);
    expect(checkout!.move(from, to)).toBe(true);
    const clone = movedByGit(dir, from, to, flag);
    expect(git(dir, 'ls-files', '-v', '-s')).toBe(git(clone, 'ls-files', '-v', '-s'));
    expect(git(dir, 'ls-files', '-v')).toMatch(/^S z\.js$/m);
    expect(git(dir, 'ls-files', '-v')).toMatch(/^h a\.txt$/m);
    expect(git(dir, 'diff-files', '--name-only')).toBe('');
  });

  it('changes nothing when a file to update holds other content, and git then refuses as before', async () => {
    const { dir, from, to, checkout } = await setup();
    writeFileSync(path.join(dir, 'tool.sh'), 'edited by someone\n');
    const before = indexBytes(dir);
    expect(checkout!.move(from, to)).toBe(false);
    expect(indexBytes(dir).equals(before)).toBe(true);
    expect(readFileSync(path.join(dir, 'tool.sh'), 'utf8')).toBe('edited by someone\n');
    expect(readFileSync(path.join(dir, 'a/deep/only.js'), 'utf8')).toBe('only\n');
    expect(existsSync(path.join(dir, '.git', 'index.lock'))).toBe(false);
    expect(() => git(dir, 'read-tree', '-m', '-u', from, to)).toThrow(/not uptodate|overwritten/);
  });

  it('changes nothing when the index entry of a file to update is not the old commit\'s (staged by the user)', async () => {
    const { dir, from, to, checkout } = await setup();
    writeFileSync(path.join(dir, 'tool.sh'), 'staged\n');
    git(dir, 'add', 'tool.sh');
    writeFileSync(path.join(dir, 'tool.sh'), '#!/bin/sh\necho 1\n'); // the file as `from` has it, the entry not
    const before = indexBytes(dir);
    expect(checkout!.move(from, to)).toBe(false);
    expect(indexBytes(dir).equals(before)).toBe(true);
  });

  it.each([
    ['the index is locked by another git', (dir: string) => writeFileSync(path.join(dir, '.git', 'index.lock'), '')],
    ['the index is version 4', (dir: string) => git(dir, 'update-index', '--index-version', '4')],
    ['the index is split', (dir: string) => git(dir, 'update-index', '--split-index')],
    ['the entry of a file to update is skip-worktree', (dir: string) => git(dir, 'update-index', '--skip-worktree', 'tool.sh')],
    ['the entry of a file to update is assume-unchanged', (dir: string) => git(dir, 'update-index', '--assume-unchanged', 'tool.sh')],
  ])('leaves it to git, changing nothing, when %s', async (_, prepare) => {
    const { dir, from, to, checkout } = await setup();
    prepare(dir);
    const lockHeld = existsSync(path.join(dir, '.git', 'index.lock'));
    const before = indexBytes(dir);
    const content = readFileSync(path.join(dir, 'tool.sh'), 'utf8');
    expect(checkout!.move(from, to)).toBe(false);
    expect(indexBytes(dir).equals(before)).toBe(true);
    expect(readFileSync(path.join(dir, 'tool.sh'), 'utf8')).toBe(content);
    expect(existsSync(path.join(dir, '.git', 'index.lock'))).toBe(lockHeld);
  });

  it('moves to and from blobs git packed (gc) when this process wrote or read them, and leaves a packed blob it never held to git', async () => {
    // Content no other test writes: the blobs this process holds are shared by all.
    const { dir, from, to, checkout } = await setup([{ path: 'tool.sh', content: Buffer.from('#!/bin/sh\necho packed\n') }]);
    git(dir, 'repack', '-a', '-d', '-q');
    git(dir, 'prune-packed');
    // `to`'s blobs were written here, `from`'s read from the files on the way: no object needed.
    expect(checkout!.move(from, to)).toBe(true);
    expect(readFileSync(path.join(dir, 'tool.sh'), 'utf8')).toBe('#!/bin/sh\necho packed\n');
    expect(checkout!.move(to, from)).toBe(true);
    expect(readFileSync(path.join(dir, 'tool.sh'), 'utf8')).toBe('#!/bin/sh\necho 1\n');
    expect(git(dir, 'diff-files', '--name-only')).toBe('');
    expect(git(dir, 'status', '--porcelain')).toBe('');

    // A blob too large to be remembered (over 1 MB), packed: git's move.
    const large = `${'x'.repeat(1_500_000)}\n`;
    const other = await setup([{ path: 'a/deep/only.js', content: Buffer.from(large) }]);
    git(other.dir, 'repack', '-a', '-d', '-q');
    git(other.dir, 'prune-packed');
    const before = indexBytes(other.dir);
    expect(other.checkout!.move(other.from, other.to)).toBe(false);
    expect(indexBytes(other.dir).equals(before)).toBe(true);
    expect(readFileSync(path.join(other.dir, 'a/deep/only.js'), 'utf8')).toBe('only\n');
  });

  it('leaves it to git for a commit it has not seen, and on a case-insensitive file system', async () => {
    const { dir, from, to, checkout } = await setup();
    // The same tree, but a commit made by git elsewhere: its tree is not in memory.
    const byGit = git(dir, 'commit-tree', '-p', from, '-m', 'by git', `${to}^{tree}`);
    const before = indexBytes(dir);
    expect(checkout!.move(from, byGit)).toBe(false);
    expect(indexBytes(dir).equals(before)).toBe(true);

    const insensitive = await setup(CHANGES, (d) => git(d, 'config', 'core.ignorecase', 'true'));
    expect(insensitive.checkout).toBeNull();
  });
});
