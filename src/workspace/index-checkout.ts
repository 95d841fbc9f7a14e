import { closeSync, fstatSync, lstatSync, openSync, readFileSync, readSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { lockFilesOf, plainLockFiles, type HeldLock, type LockFiles } from './lock-files.js';
import type { Git } from './git.js';
import { overwriteInPlace } from './overwrite-file.js';
import { MAX_INDEX_BYTES, parseIndex, serializedIndex, setEntry, type IndexEntry, type ParsedIndex } from './index-file.js';
import { blobId, differingFiles, MAX_IN_PROCESS_FILE_BYTES, plainGitSettings, readBlob, rememberBlob, rememberedTree } from './in-process-commit.js';

/** A trial changes a few files; a move of more is git's (each file is held in memory here). */
const MAX_FILES_PER_MOVE = 64;

/**
 * The project folder's move from one commit to another, done in this process when it is plain
 * (decisions 45, 49): what `git read-tree -m -u from to` does when the two commits hold the same
 * files and only the content of some of them differs, which is every trial of a run whose
 * changes edit files. The files are rewritten from the blobs (remembered, or loose objects) and
 * their index entries updated, under `index.lock`, exactly as git's two-way merge would leave them: the user's other
 * staged changes are carried as they are, and a file that does not hold `from`'s content (or
 * whose index entry does not) makes git do it, and refuse, as it does today.
 *
 * git does it instead, with nothing changed, whenever anything is unusual: a tree not in memory
 * (a commit crucible did not make or see), a file added, removed or changing mode, a packed
 * blob crucible never wrote nor read, a file that is not a regular file or whose folder is a link, an index that is not
 * version 2 or 3 or holds an extension other than the cache tree, resolve-undo and the
 * untracked cache (split index, sparse index, fsmonitor), a conflict or a skip-worktree or
 * intent-to-add entry, a checksum that does not match, a lock held, settings that change how
 * files are checked out (attributes, autocrlf, a case-insensitive or mode-blind file system, a
 * sparse checkout, an fsmonitor), and the environment's GIT_DIR, GIT_WORK_TREE or GIT_INDEX_FILE.
 */
export class IndexCheckout {
  private constructor(
    private readonly top: string,
    private readonly gitDir: string,
    private readonly objectsDir: string,
    /** An agent's worktree, crucible's own folder: its files are rewritten in place (decisions 74). */
    private readonly ownFiles: boolean,
  ) {
    // A worktree of crucible's own keeps its index's inodes; the project's index is made anew each time (lock-files.ts).
    this.locks = ownFiles ? lockFilesOf(path.dirname(objectsDir)) : plainLockFiles;
  }

  private readonly locks: LockFiles;

  /**
   * For an agent's worktree (`top`, its git folder `gitDir`), whose git runs with a sparse checkout
   * of its own: the hidden files' skip-worktree entries are carried untouched, and no file of
   * theirs is ever written (a changed path must have a plain entry). `values`: its settings, from
   * `plainGitSettings`. Null when git must do it.
   */
  static forWorktree(top: string, dirs: { gitDir: string; commonDir: string }, values: ReadonlyMap<string, string>): IndexCheckout | null {
    return plainCheckoutSettings(values, true) ? IndexCheckout.at(top, dirs, true) : null;
  }

  private static at(top: string, dirs: { gitDir: string; commonDir: string }, ownFiles: boolean): IndexCheckout | null {
    try {
      return new IndexCheckout(realpathSync(top), realpathSync(dirs.gitDir), path.join(realpathSync(dirs.commonDir), 'objects'), ownFiles);
    } catch {
      return null;
    }
  }

  private get indexFile(): string {
    return path.join(this.gitDir, 'index');
  }

  /** For the worktree `git` works in (`dirs` from `gitDirs`), or null when git must always do it. */
  static async open(git: Git, dirs: { gitDir: string; commonDir: string; top: string }, env: NodeJS.ProcessEnv): Promise<IndexCheckout | null> {
    if (['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE'].some((name) => env[name] !== undefined)) return null;
    const values = await plainGitSettings(git, dirs.commonDir, env);
    if (values === null || !plainCheckoutSettings(values, false)) return null;
    return IndexCheckout.at(dirs.top, dirs, false);
  }

  /**
   * As `git read-tree -m -u from to`; false, with nothing changed, when git must do it, or when
   * `mayWrite` refuses a file to update.
   */
  move(from: string, to: string, mayWrite: (file: string) => boolean = () => true, whenIndexIs?: string): boolean {
    return this.update(from, to, mayWrite, true, whenIndexIs);
  }

  /**
   * After `to` was committed in process from the files as they are on disk (on `from`, which the
   * index holds): the index entries of the files that differ set to `to`'s, with their stat data,
   * as `git commit -a` leaves them. Each file must hold `to`'s content. False, with nothing
   * changed, when git must do it.
   */
  record(from: string, to: string, whenIndexIs?: string): boolean {
    return this.update(from, to, () => true, false, whenIndexIs);
  }

  /** The checksum of the index as last written here (hex), or null before the first write. */
  get lastWritten(): string | null {
    return this.lastChecksum;
  }

  private lastChecksum: string | null = null;

  /**
   * The index as this process last wrote it, parsed. A trial moves the project twice, and
   * reading, checking and parsing the whole index each time grew with the project (8 ms a trial
   * at 5,000 files): the file is read whole again only when its size or its checksum (its last
   * 20 bytes, the SHA-1 of the rest) is not what was written, that is when anyone else wrote it.
   * Taken by each update, and kept again only when that update wrote the index.
   */
  private written: ParsedIndex | null = null;

  /** The index as it is on disk, under the lock: the one last written if it is still there, else read and parsed; null when git must do it. */
  private readIndex(): ParsedIndex | null {
    const known = this.written;
    this.written = null;
    const fd = openSync(this.indexFile, 'r');
    try {
      const size = fstatSync(fd).size;
      // A large index (tens of thousands of files) is read, checked and written faster by git.
      if (size > MAX_INDEX_BYTES) return null;
      if (known !== null && size === known.data.length && size >= 20) {
        const checksum = Buffer.alloc(20);
        if (readSync(fd, checksum, 0, 20, size - 20) === 20 && checksum.equals(known.data.subarray(size - 20))) return known;
      }
    } finally {
      closeSync(fd);
    }
    return parseIndex(readFileSync(this.indexFile));
  }

  /**
   * The files that differ between `from` and `to` written from `to` when `write`, else checked to
   * hold it; their entries updated. `whenIndexIs`: the checksum the index must have (hex), if any.
   */
  private update(from: string, to: string, mayWrite: (file: string) => boolean, write: boolean, whenIndexIs: string | undefined): boolean {
    const [a, b] = [rememberedTree(from), rememberedTree(to)];
    if (a === undefined || b === undefined) return false;
    const changed = differingFiles(a, b, '');
    if (changed === null || changed.length === 0 || !changed.every((file) => mayWrite(file.path))) return false;
    if (changed.length > MAX_FILES_PER_MOVE) return false;
    let lock: HeldLock;
    try {
      lock = this.locks.take(this.indexFile);
    } catch {
      return false; // another git holds the index: git reports it
    }
    const written: Array<{ file: string; before: Buffer; mode: number }> = [];
    try {
      // Read under the lock, as git does: no other git can change it from here on.
      const index = this.readIndex();
      if (index === null || (whenIndexIs !== undefined && index.data.toString('hex', index.data.length - 20) !== whenIndexIs)) return this.release(lock);
      const plan: Array<{ entry: IndexEntry; file: string; sha: string; before: Buffer; after: Buffer; executable: boolean }> = [];
      for (const change of changed) {
        const entry = index.entries.get(change.path);
        if (entry === undefined || !entry.plain || entry.sha !== change.was || entry.mode !== Number.parseInt(change.mode, 8)) return this.release(lock);
        const file = path.join(this.top, change.path);
        // A folder on the way replaced by a link would take the write elsewhere.
        if (realpathSync(path.dirname(file)) !== path.dirname(file)) return this.release(lock);
        const info = lstatSync(file, { throwIfNoEntry: false });
        const executable = change.mode === '100755';
        if (!info?.isFile() || info.size > MAX_IN_PROCESS_FILE_BYTES || ((info.mode & 0o100) !== 0) !== executable) return this.release(lock);
        const before = readFileSync(file);
        // Moving: not up to date (someone edited it), git refuses, naming the file. Recording:
        // the file must hold what was committed.
        if (blobId(before) !== (write ? change.was : change.sha)) return this.release(lock);
        // What the file holds is that blob: the move back to it needs no object (gc may pack it).
        rememberBlob(write ? change.was : change.sha, before);
        const after = write ? readBlob(this.objectsDir, change.sha) : before;
        if (after === null) return this.release(lock);
        plan.push({ entry, file, sha: change.sha, before, after, executable });
      }
      for (const step of plan) {
        const mode = step.executable ? 0o777 : 0o666;
        if (write) {
          this.writeFile(step.file, step.after, mode);
          written.push({ file: step.file, before: step.before, mode });
        }
        setEntry(index.data, step.entry, lstatSync(step.file, { bigint: true }), step.sha);
        step.entry.sha = step.sha;
      }
      const next = serializedIndex(index, changed.map((c) => c.path));
      const content = next.data;
      lock.write(content);
      lock.commit();
      this.lastChecksum = content.toString('hex', content.length - 20);
      this.written = next;
      return true;
    } catch {
      // Put back what was written, so that git finds the files as the index says and does it.
      for (const step of written.reverse()) {
        try {
          this.writeFile(step.file, step.before, step.mode);
        } catch {
          // git then refuses, naming the file, and the run stops with it
        }
      }
      lock.release();
      return false;
    }
  }

  /**
   * Each file of the project is replaced whole (a rename), never left half written. The temporary
   * file is in the git folder, not among the user's files: a kill in between leaves nothing in
   * the project. Another file system there (EXDEV) makes git do the move. An agent's worktree is
   * crucible's: a plain file of its own there is rewritten in place, the rename's cost saved.
   */
  private writeFile(file: string, content: Buffer, mode: number): void {
    if (this.ownFiles && overwriteInPlace(file, content, (mode & 0o100) !== 0)) return;
    const temp = path.join(this.gitDir, `crucible-checkout-${process.pid}.tmp`);
    // One a killed run left (or anything planted there) goes first: a new file gets `mode`, and
    // `wx` never follows a link. Once this process has seen the name free, each write leaves it
    // free again, unless it failed.
    if (!this.tempGone) rmSync(temp, { force: true });
    this.tempGone = false;
    const fd = openSync(temp, 'wx', mode);
    try {
      for (let done = 0; done < content.length; ) done += writeSync(fd, content, done);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, file);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    this.tempGone = true;
  }

  /** Whether this process's temporary file is known not to be there (see writeFile). */
  private tempGone = false;

  private release(lock: HeldLock): false {
    lock.release();
    return false;
  }
}

/** Settings under which git checks files out as done here; a sparse checkout only where allowed. */
function plainCheckoutSettings(values: ReadonlyMap<string, string>, sparse: boolean): boolean {
  const on = (key: string) => ['true', 'yes', 'on', '1'].includes((values.get(key) ?? '').toLowerCase());
  const off = (key: string) => ['false', 'no', 'off', '0'].includes((values.get(key) ?? '').toLowerCase());
  if (on('core.ignorecase') || off('core.filemode') || on('core.splitindex') || on('index.skiphash')) return false;
  if (on('core.sparsecheckout') && !sparse) return false;
  return !(values.has('core.fsmonitor') && !off('core.fsmonitor'));
}

