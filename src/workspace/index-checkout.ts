import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import type { Git } from './git.js';
import { blobId, differingFiles, MAX_IN_PROCESS_FILE_BYTES, plainGitSettings, readLooseBlob, rememberedTree } from './in-process-commit.js';

/**
 * The project folder's move from one commit to another, done in this process when it is plain
 * (decisions 45): what `git read-tree -m -u from to` does when the two commits hold the same
 * files and only the content of some of them differs, which is every trial of a run whose
 * changes edit files. The files are rewritten from loose objects and their index entries
 * updated, under `index.lock`, exactly as git's two-way merge would leave them: the user's other
 * staged changes are carried as they are, and a file that does not hold `from`'s content (or
 * whose index entry does not) makes git do it, and refuse, as it does today.
 *
 * git does it instead, with nothing changed, whenever anything is unusual: a tree not in memory
 * (a commit crucible did not make or see), a file added, removed or changing mode, a packed
 * blob, a file that is not a regular file or whose folder is a link, an index that is not
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
  ) {}

  /**
   * For an agent's worktree (`top`, its git folder `gitDir`), whose git runs with a sparse checkout
   * of its own: the hidden files' skip-worktree entries are carried untouched, and no file of
   * theirs is ever written (a changed path must have a plain entry). `values`: its settings, from
   * `plainGitSettings`. Null when git must do it.
   */
  static forWorktree(top: string, dirs: { gitDir: string; commonDir: string }, values: ReadonlyMap<string, string>): IndexCheckout | null {
    return plainCheckoutSettings(values, true) ? IndexCheckout.at(top, dirs) : null;
  }

  private static at(top: string, dirs: { gitDir: string; commonDir: string }): IndexCheckout | null {
    try {
      return new IndexCheckout(realpathSync(top), realpathSync(dirs.gitDir), path.join(realpathSync(dirs.commonDir), 'objects'));
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
    return IndexCheckout.at(dirs.top, dirs);
  }

  /**
   * As `git read-tree -m -u from to`; false, with nothing changed, when git must do it, or when
   * `mayWrite` refuses a file to update.
   */
  move(from: string, to: string, mayWrite: (file: string) => boolean = () => true): boolean {
    const [a, b] = [rememberedTree(from), rememberedTree(to)];
    if (a === undefined || b === undefined) return false;
    const changed = differingFiles(a, b, '');
    if (changed === null || changed.length === 0 || !changed.every((file) => mayWrite(file.path))) return false;
    if (changed.length > MAX_FILES_PER_MOVE) return false;
    const lock = `${this.indexFile}.lock`;
    let fd: number;
    try {
      fd = openSync(lock, 'wx', 0o666);
    } catch {
      return false; // another git holds the index: git reports it
    }
    const written: Array<{ file: string; before: Buffer; mode: number }> = [];
    try {
      // Read under the lock, as git does: no other git can change it from here on. A large index
      // (tens of thousands of files) is read, checked and written faster by git.
      if (statSync(this.indexFile).size > MAX_INDEX_BYTES) return this.release(fd, lock);
      const index = parseIndex(readFileSync(this.indexFile));
      if (index === null) return this.release(fd, lock);
      const plan: Array<{ entry: IndexEntry; file: string; sha: string; before: Buffer; after: Buffer; executable: boolean }> = [];
      for (const change of changed) {
        const entry = index.entries.get(change.path);
        if (entry === undefined || !entry.plain || entry.sha !== change.was || entry.mode !== Number.parseInt(change.mode, 8)) return this.release(fd, lock);
        const file = path.join(this.top, change.path);
        // A folder on the way replaced by a link would take the write elsewhere.
        if (realpathSync(path.dirname(file)) !== path.dirname(file)) return this.release(fd, lock);
        const info = lstatSync(file, { throwIfNoEntry: false });
        const executable = change.mode === '100755';
        if (!info?.isFile() || info.size > MAX_IN_PROCESS_FILE_BYTES || ((info.mode & 0o100) !== 0) !== executable) return this.release(fd, lock);
        // Not up to date (someone edited it): git refuses, naming the file.
        const before = readFileSync(file);
        if (blobId(before) !== change.was) return this.release(fd, lock);
        const after = readLooseBlob(this.objectsDir, change.sha);
        if (after === null) return this.release(fd, lock);
        plan.push({ entry, file, sha: change.sha, before, after, executable });
      }
      for (const step of plan) {
        const mode = step.executable ? 0o777 : 0o666;
        this.writeFile(step.file, step.after, mode);
        written.push({ file: step.file, before: step.before, mode });
        setEntry(index.data, step.entry, lstatSync(step.file, { bigint: true }), step.sha);
      }
      const content = serializeIndex(index, changed.map((c) => c.path));
      for (let done = 0; done < content.length; ) done += writeSync(fd, content, done);
      closeSync(fd);
      renameSync(lock, this.indexFile);
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
      try {
        closeSync(fd);
      } catch {
        // closed already
      }
      rmSync(lock, { force: true });
      return false;
    }
  }

  /**
   * Each file is replaced whole (a rename), never left half written. The temporary file is in
   * the git folder, not among the user's files: a kill in between leaves nothing in the project.
   * Another file system there (EXDEV) makes git do the move.
   */
  private writeFile(file: string, content: Buffer, mode: number): void {
    const temp = path.join(this.gitDir, `crucible-checkout-${process.pid}.tmp`);
    // One a killed run left (or anything planted there) goes first: a new file gets `mode`, and
    // `wx` never follows a link.
    rmSync(temp, { force: true });
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
  }

  private release(fd: number, lock: string): false {
    closeSync(fd);
    rmSync(lock, { force: true });
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

// ---- git's index file (Documentation/gitformat-index.txt), versions 2 and 3 ----

interface IndexEntry {
  /** Offset of the entry in the file. */
  at: number;
  mode: number;
  sha: string;
  /** No flag set (assume-unchanged, skip-worktree, intent-to-add): only such an entry is updated here. */
  plain: boolean;
}

interface ParsedIndex {
  data: Buffer;
  /** Stage-0 entries by path; a conflict (a stage other than 0) makes the parse fail. */
  entries: Map<string, IndexEntry>;
  /** Where the entries end and the extensions begin. */
  entriesEnd: number;
  extensions: Array<{ signature: string; body: Buffer }>;
}

/** A trial changes a few files; a move of more is git's (each file is held in memory here). */
const MAX_FILES_PER_MOVE = 64;

/** About 10,000 files: beyond, git's own read-tree is the faster way. */
const MAX_INDEX_BYTES = 1 << 20;

const KEPT_EXTENSIONS = new Set(['TREE', 'REUC', 'UNTR']);
/** Optional, and describing offsets and hashes of the file as it was: dropped. */
const DROPPED_EXTENSIONS = new Set(['EOIE', 'IEOT']);

/** The index, or null when it is anything but a plain version 2 or 3 index with a valid checksum. */
export function parseIndex(data: Buffer): ParsedIndex | null {
  if (data.length < 32 || data.toString('latin1', 0, 4) !== 'DIRC') return null;
  const version = data.readUInt32BE(4);
  if (version !== 2 && version !== 3) return null;
  const body = data.length - 20;
  if (!createHash('sha1').update(data.subarray(0, body)).digest().equals(data.subarray(body))) return null;
  const count = data.readUInt32BE(8);
  const entries = new Map<string, IndexEntry>();
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 64 > body) return null;
    const flags = data.readUInt16BE(at + 60);
    // A conflict (a stage other than 0) is git's business.
    if ((flags & 0x3000) !== 0) return null;
    // Extended flags (skip-worktree, intent-to-add) take two bytes more, from version 3 on.
    const extended = (flags & 0x4000) !== 0;
    if (extended && version < 3) return null;
    const fixed = extended ? 64 : 62;
    const plain = (flags & 0x8000) === 0 && (!extended || data.readUInt16BE(at + 62) === 0);
    const nameLength = flags & 0xfff;
    const nameStart = at + fixed;
    const nameEnd = nameLength < 0xfff ? nameStart + nameLength : data.indexOf(0, nameStart);
    if (nameEnd < 0 || nameEnd > body || data[nameEnd] !== 0) return null;
    const name = data.toString('utf8', nameStart, nameEnd);
    if (Buffer.byteLength(name) !== nameEnd - nameStart) return null; // not UTF-8: a name that cannot round-trip
    entries.set(name, { at, mode: data.readUInt32BE(at + 24), sha: data.toString('hex', at + 40, at + 60), plain });
    at += (fixed + (nameEnd - nameStart) + 8) & ~7;
  }
  const entriesEnd = at;
  const extensions: ParsedIndex['extensions'] = [];
  while (at < body) {
    if (at + 8 > body) return null;
    const signature = data.toString('latin1', at, at + 4);
    const size = data.readUInt32BE(at + 4);
    if (at + 8 + size > body) return null;
    if (!KEPT_EXTENSIONS.has(signature) && !DROPPED_EXTENSIONS.has(signature)) return null;
    if (KEPT_EXTENSIONS.has(signature)) extensions.push({ signature, body: data.subarray(at + 8, at + 8 + size) });
    at += 8 + size;
  }
  return { data: Buffer.from(data), entries, entriesEnd, extensions };
}

/** The entry's stat data and id, as git records a file it has just written. */
function setEntry(data: Buffer, entry: IndexEntry, info: BigIntStats, sha: string): void {
  const u32 = (value: bigint) => Number(value & 0xffffffffn);
  const at = entry.at;
  data.writeUInt32BE(u32(info.ctimeNs / 1_000_000_000n), at);
  data.writeUInt32BE(u32(info.ctimeNs % 1_000_000_000n), at + 4);
  data.writeUInt32BE(u32(info.mtimeNs / 1_000_000_000n), at + 8);
  data.writeUInt32BE(u32(info.mtimeNs % 1_000_000_000n), at + 12);
  data.writeUInt32BE(u32(info.dev), at + 16);
  data.writeUInt32BE(u32(info.ino), at + 20);
  // mode stays: the same in both trees
  data.writeUInt32BE(u32(info.uid), at + 28);
  data.writeUInt32BE(u32(info.gid), at + 32);
  data.writeUInt32BE(u32(info.size), at + 36);
  data.write(sha, at + 40, 20, 'hex');
}

/** The index with its entries as updated, the cache tree invalidated along `changed`, and a new checksum. */
function serializeIndex(index: ParsedIndex, changed: readonly string[]): Buffer {
  const parts: Buffer[] = [index.data.subarray(0, index.entriesEnd)];
  for (const { signature, body } of index.extensions) {
    const out = signature === 'TREE' ? invalidateCacheTree(body, changed) : body;
    if (out === null) continue; // a cache tree that cannot be read is dropped: git rebuilds it
    const header = Buffer.alloc(8);
    header.write(signature, 0, 'latin1');
    header.writeUInt32BE(out.length, 4);
    parts.push(header, out);
  }
  const content = Buffer.concat(parts);
  return Buffer.concat([content, createHash('sha1').update(content).digest()]);
}

/**
 * The cache tree (the TREE extension) with every folder that holds a changed path marked
 * invalid (entry count -1, no id), as git does when it updates an entry; null when it cannot be
 * read. Each node: its name, NUL, the entry count, a space, the subtree count, a newline, the
 * tree's id when the count is not negative, then its subtrees.
 */
export function invalidateCacheTree(body: Buffer, changed: readonly string[]): Buffer | null {
  const out: Buffer[] = [];
  let at = 0;
  const node = (prefix: string, depth: number): boolean => {
    const nul = body.indexOf(0, at);
    const space = body.indexOf(0x20, nul);
    const newline = body.indexOf(0x0a, space);
    if (nul < 0 || space < 0 || newline < 0 || depth > 4096) return false;
    const name = body.toString('utf8', at, nul);
    const count = Number(body.toString('latin1', nul + 1, space));
    const subtrees = Number(body.toString('latin1', space + 1, newline));
    if (!Number.isInteger(count) || !Number.isInteger(subtrees) || subtrees < 0) return false;
    const folder = depth === 0 ? '' : prefix === '' ? name : `${prefix}/${name}`;
    const touched = changed.some((file) => folder === '' || file.startsWith(`${folder}/`));
    let next = newline + 1;
    if (count >= 0) next += 20;
    if (next > body.length) return false;
    if (touched) out.push(Buffer.from(`${name}\0-1 ${subtrees}\n`, 'utf8'));
    else out.push(body.subarray(at, next));
    at = next;
    for (let i = 0; i < subtrees; i++) if (!node(folder, depth + 1)) return false;
    return true;
  };
  if (body.length > 0 && !node('', 0)) return null;
  if (at !== body.length) return null;
  return Buffer.concat(out);
}
