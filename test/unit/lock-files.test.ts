import { closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LockFiles } from '../../src/workspace/lock-files.js';

/**
 * git's lock-file protocol for the files a trial replaces (HEAD, the run branch, an index), with
 * the displaced inode kept and used again as the next lock (decisions 83). What must hold: the
 * file always reads whole, old or new; a lock someone holds is respected; and nothing but an
 * inode this process wrote and nobody else names is ever written through.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A git-folder-like place: the file replaced, the spares' folder beside it, and a user's file outside. */
function setUp(): { dir: string; file: string; folder: string; locks: LockFiles; userFile: string } {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-lock-files-')));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'git'));
  const file = path.join(dir, 'git', 'HEAD');
  writeFileSync(file, `${'0'.repeat(40)}\n`);
  const userFile = path.join(dir, 'notes.txt');
  writeFileSync(userFile, 'the user\'s own notes\n');
  const folder = path.join(dir, 'git', 'crucible-spares');
  return { dir, file, folder, locks: new LockFiles(folder), userFile };
}

function replace(locks: LockFiles, file: string, content: string): void {
  const lock = locks.take(file);
  lock.write(content);
  lock.commit();
}

const sha = (n: number) => String(n % 10).repeat(40);

describe('LockFiles', () => {
  it('replaces a file again and again through two inodes, never making a third, and leaves no lock', () => {
    const { file, folder, locks } = setUp();
    const inodes = new Set<number>();
    for (let n = 1; n <= 8; n++) {
      replace(locks, file, `${sha(n)}\n`);
      expect(readFileSync(file, 'utf8')).toBe(`${sha(n)}\n`);
      expect(statSync(file).nlink).toBe(1);
      if (n >= 2) inodes.add(statSync(file).ino);
    }
    // The first replacement makes one inode, the second keeps the one it displaced; after that
    // the two take turns.
    expect(inodes.size).toBe(2);
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(readdirSync(folder)).toHaveLength(1);
  });

  it('cuts a spare to the new content\'s length', () => {
    const { file, locks } = setUp();
    replace(locks, file, 'x'.repeat(300));
    replace(locks, file, 'y'.repeat(300));
    replace(locks, file, 'short\n');
    expect(readFileSync(file, 'utf8')).toBe('short\n');
    replace(locks, file, 'longer than before\n');
    expect(readFileSync(file, 'utf8')).toBe('longer than before\n');
  });

  it('refuses a lock someone else holds, spare or not, and leaves theirs alone', () => {
    const { file, locks } = setUp();
    replace(locks, file, `${sha(1)}\n`);
    replace(locks, file, `${sha(2)}\n`);
    writeFileSync(`${file}.lock`, 'git holds this\n');
    expect(() => locks.take(file)).toThrow(/EEXIST/);
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe('git holds this\n');
    expect(readFileSync(file, 'utf8')).toBe(`${sha(2)}\n`);
    rmSync(`${file}.lock`);
    replace(locks, file, `${sha(3)}\n`);
    expect(readFileSync(file, 'utf8')).toBe(`${sha(3)}\n`);
  });

  it('removes the lock it gives up', () => {
    const { file, locks } = setUp();
    for (let n = 1; n <= 3; n++) {
      const lock = locks.take(file);
      lock.release();
      expect(existsSync(`${file}.lock`)).toBe(false);
      replace(locks, file, `${sha(n)}\n`);
    }
    expect(readFileSync(file, 'utf8')).toBe(`${sha(3)}\n`);
  });

  it('never writes through a spare replaced by a hard link or a link to a user\'s file', () => {
    const { file, folder, locks, userFile } = setUp();
    for (const plant of [(spare: string) => linkSync(userFile, spare), (spare: string) => symlinkSync(userFile, spare)]) {
      replace(locks, file, `${sha(1)}\n`);
      replace(locks, file, `${sha(2)}\n`);
      const [spare] = readdirSync(folder);
      rmSync(path.join(folder, spare!));
      plant(path.join(folder, spare!));
      replace(locks, file, `${sha(3)}\n`);
      expect(readFileSync(file, 'utf8')).toBe(`${sha(3)}\n`);
      expect(readFileSync(userFile, 'utf8')).toBe('the user\'s own notes\n');
      expect(statSync(userFile).ino).not.toBe(statSync(file).ino);
      rmSync(path.join(folder, spare!), { force: true });
    }
  });

  it('never writes through a file replaced by a hard link to a user\'s file', () => {
    const { dir, file, locks, userFile } = setUp();
    replace(locks, file, `${sha(1)}\n`);
    replace(locks, file, `${sha(2)}\n`);
    // Someone makes the file another name of the user's: the replacement displaces it, and it
    // must never become a lock.
    const planted = path.join(dir, 'planted');
    linkSync(userFile, planted);
    renameSync(planted, file);
    for (let n = 3; n <= 6; n++) replace(locks, file, `${sha(n)}\n`);
    expect(readFileSync(file, 'utf8')).toBe(`${sha(6)}\n`);
    expect(readFileSync(userFile, 'utf8')).toBe('the user\'s own notes\n');
  });

  it('never writes through a spare someone else also names', () => {
    const { dir, file, folder, locks } = setUp();
    replace(locks, file, `${sha(1)}\n`);
    replace(locks, file, `${sha(2)}\n`);
    const [spare] = readdirSync(folder);
    const other = path.join(dir, 'other-name');
    linkSync(path.join(folder, spare!), other);
    replace(locks, file, `${sha(3)}\n`);
    expect(readFileSync(other, 'utf8')).toBe(`${sha(1)}\n`);
    expect(readFileSync(file, 'utf8')).toBe(`${sha(3)}\n`);
  });

  it('replaces a spare another process left and never uses it', () => {
    const { file, folder, locks } = setUp();
    const before = new LockFiles(folder);
    replace(before, file, `${sha(1)}\n`);
    replace(before, file, `${sha(2)}\n`);
    const [left] = readdirSync(folder);
    // Held open, the left spare's inode stays itself (its number is not reused) and can be read
    // after its name is gone, without adding a name.
    const held = openSync(path.join(folder, left!), 'r');
    try {
      const leftInode = fstatSync(held).ino;
      for (let n = 3; n <= 6; n++) {
        replace(locks, file, `${sha(n)}\n`);
        expect(statSync(file).ino).not.toBe(leftInode);
        expect(readFileSync(file, 'utf8')).toBe(`${sha(n)}\n`);
      }
      const content = Buffer.alloc(41);
      readSync(held, content, 0, 41, 0);
      expect(content.toString()).toBe(`${sha(1)}\n`);
    } finally {
      closeSync(held);
    }
    expect(readdirSync(folder)).toHaveLength(1);
  });

  it('keeps no spares through a folder that is a link', () => {
    const { dir, file, folder, locks } = setUp();
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, folder);
    for (let n = 1; n <= 4; n++) replace(locks, file, `${sha(n)}\n`);
    expect(readFileSync(file, 'utf8')).toBe(`${sha(4)}\n`);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('forgets files written once (a trial\'s tag) and removes the spares of those it forgets', () => {
    const { dir, file, folder, locks } = setUp();
    replace(locks, file, `${sha(1)}\n`);
    replace(locks, file, `${sha(2)}\n`);
    expect(readdirSync(folder)).toHaveLength(1);
    const tags = path.join(dir, 'git', 'tags');
    mkdirSync(tags);
    for (let n = 1; n <= 100; n++) replace(locks, path.join(tags, String(n)), `${sha(n)}\n`);
    expect(readdirSync(folder)).toEqual([]);
    replace(locks, file, `${sha(3)}\n`);
    expect(readFileSync(file, 'utf8')).toBe(`${sha(3)}\n`);
  });
});
