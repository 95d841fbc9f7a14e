import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * git's lock-file protocol (`<file>.lock` made exclusively, written, renamed over `<file>`) for the
 * files crucible replaces every trial: a worktree's HEAD (twice), the run branch, an index. Same
 * protocol, same guarantees (the lock excludes every git, the rename replaces the file whole),
 * but no inode is made or freed per replacement: the inode a replacement displaces is kept, by a
 * second name in `<git common dir>/crucible-spares/`, and becomes the next lock of that file, by
 * a hard link (exclusive, as `O_EXCL` is) and a write in place.
 *
 * Why (decisions 83): on the journal-less ext4 with online discard that crucible is measured on,
 * each freed inode's block is discarded on the spot (0.2–0.6 ms a replacement, 1.2 ms a trial for
 * HEAD alone), and for tens of seconds after many files were deleted (git's prune of a pack, a
 * test run) making an inode costs 0.4 ms instead of 0.015; linking, renaming and writing in place
 * stay at 0.01 ms. Elsewhere the saving is smaller, and nothing is lost.
 *
 * A spare is written through only when it is the inode this process renamed into the file, found
 * again by device and inode number with no other name: anything put in its place (a hard link to
 * a user's file planted in the folder, the file itself replaced by one) is left alone and a new
 * lock file made instead. A spare left by a killed process is never used; the next replacement of
 * that file replaces it.
 *
 * What a spare gives up: a write in place is not ordered before the rename the way a new file's
 * data is (ext4's `auto_da_alloc`), so after a power cut (not a kill: the page cache survives
 * those) a journalled file system can show the file as it was two replacements before, an older
 * value instead of the old one. Crucible's worktrees are put right by git on their next use and a
 * run branch that is not where the ledger says stops a resumed run with a message; the project's
 * own index keeps the plain protocol (`plainLockFiles`).
 */
export class LockFiles {
  /** For each file: the inode this process last renamed into it. */
  private readonly written = new Map<string, InodeId>();
  /** For each file: the inode displaced from it, under its second name. */
  private readonly spares = new Map<string, InodeId & { path: string }>();
  private folderState: 'unknown' | 'ready' | 'unusable' = 'unknown';

  /** `folder`: where spares are kept; null keeps none (every lock a new file, as git makes them). */
  constructor(private readonly folder: string | null) {}

  /**
   * `<file>.lock`, made exclusively: throws as `openSync(lock, 'wx')` does, EEXIST when someone
   * holds it. A spare of `file` becomes it when there is one; else a new file, as git makes it.
   */
  take(file: string): HeldLock {
    const lock = `${file}.lock`;
    const spare = this.spares.get(file);
    this.spares.delete(file);
    if (spare !== undefined) {
      const reused = this.reuse(spare, lock);
      if (reused !== null) return new HeldLock(this, file, lock, reused.fd, reused.id, true);
    }
    const fd = openSync(lock, 'wx', 0o666);
    return new HeldLock(this, file, lock, fd, inodeOf(fstatSync(fd, { bigint: true })), false);
  }

  /** The spare linked as `lock` and opened, when it is still the inode kept; null when not (nothing left behind). Throws EEXIST when the lock is held. */
  private reuse(spare: InodeId & { path: string }, lock: string): { fd: number; id: InodeId } | null {
    try {
      linkSync(spare.path, lock);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
      return null;
    }
    let fd: number | null = null;
    try {
      fd = openSync(lock, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      const info = fstatSync(fd, { bigint: true });
      // Ours, and with no name but the lock once the spare's is gone: anything else is not written through.
      if (info.isFile() && sameInode(inodeOf(info), spare)) {
        unlinkSync(spare.path);
        if (fstatSync(fd, { bigint: true }).nlink === 1n) return { fd, id: spare };
      }
    } catch {
      // gone or changed meanwhile: a new lock file instead
    }
    if (fd !== null) closeSync(fd);
    unlinkQuietly(lock);
    return null;
  }

  /** Renames `lock` over `file`, keeping the inode it displaces as the next spare when that is the one this process put there. */
  commit(lock: HeldLock): void {
    if (this.folder === null) {
      renameSync(lock.path, lock.file);
      return;
    }
    const kept = this.keepDisplaced(lock.file, this.folder);
    try {
      renameSync(lock.path, lock.file);
    } catch (error) {
      if (kept !== null) unlinkQuietly(kept.path);
      throw error;
    }
    this.written.delete(lock.file);
    this.written.set(lock.file, lock.id);
    if (kept !== null) this.spares.set(lock.file, kept);
    // Files replaced again and again (HEAD, the run branch, an index) stay; a trial's new tag is
    // written once, and is forgotten once MAX_TRACKED newer files were written.
    for (const [oldest] of this.written) {
      if (this.written.size <= MAX_TRACKED) break;
      this.written.delete(oldest);
      const spare = this.spares.get(oldest);
      this.spares.delete(oldest);
      if (spare !== undefined) unlinkQuietly(spare.path);
    }
  }

  /** A second name for `file`'s inode in the folder, when it is the one this process wrote there; null otherwise. */
  private keepDisplaced(file: string, folder: string): (InodeId & { path: string }) | null {
    const mine = this.written.get(file);
    if (mine === undefined || !this.folderReady(folder)) return null;
    try {
      const info = lstatSync(file, { bigint: true });
      if (!info.isFile() || info.nlink !== 1n || !sameInode(inodeOf(info), mine)) return null;
      const spare = path.join(folder, createHash('sha1').update(file).digest('hex'));
      try {
        linkSync(file, spare);
      } catch (error) {
        // One a killed process left (the next `take` unlinks each it uses): replaced.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return null;
        unlinkSync(spare);
        linkSync(file, spare);
      }
      // Linked by name: if the file was replaced in between, `take` finds another inode there and leaves it.
      return { ...mine, path: spare };
    } catch {
      return null;
    }
  }

  private folderReady(folder: string): boolean {
    if (this.folderState === 'unknown') {
      try {
        mkdirSync(folder, { mode: 0o700 });
      } catch {
        // there already, or not to be made: the check below says
      }
      const info = lstatSync(folder, { throwIfNoEntry: false });
      this.folderState = info?.isDirectory() === true ? 'ready' : 'unusable';
    }
    return this.folderState === 'ready';
  }
}

/** A lock taken: written once, then committed (renamed over its file) or released (removed). */
export class HeldLock {
  private fd: number | null;

  constructor(
    private readonly owner: LockFiles,
    readonly file: string,
    readonly path: string,
    fd: number,
    readonly id: InodeId,
    /** A spare's inode: its old bytes are there until written over. */
    private readonly reused: boolean,
  ) {
    this.fd = fd;
  }

  /** `content`, the lock's whole content; the lock closed. */
  write(content: string | Uint8Array): void {
    const fd = this.fd!;
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, done);
    if (this.reused) ftruncateSync(fd, bytes.length);
    this.close();
  }

  commit(): void {
    this.close();
    this.owner.commit(this);
  }

  release(): void {
    this.close();
    unlinkQuietly(this.path);
  }

  private close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}

interface InodeId {
  dev: bigint;
  ino: bigint;
}

/** Removes `file` if it is there (`rmSync` with `force` looks first: a second call). */
export function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // not there
  }
}

function inodeOf(info: { dev: bigint; ino: bigint }): InodeId {
  return { dev: info.dev, ino: info.ino };
}

function sameInode(a: InodeId, b: InodeId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Files whose last inode is remembered, at most. */
const MAX_TRACKED = 64;

const byCommonDir = new Map<string, LockFiles>();

/** Locks that keep no spares: for the user's own files and index (see LockFiles on a power cut). */
export const plainLockFiles = new LockFiles(null);

/** The lock files of the repository whose git common dir is `commonDir` (one set a process). */
export function lockFilesOf(commonDir: string): LockFiles {
  const key = path.resolve(commonDir);
  let locks = byCommonDir.get(key);
  if (locks === undefined) {
    locks = new LockFiles(path.join(key, 'crucible-spares'));
    byCommonDir.set(key, locks);
  }
  return locks;
}
