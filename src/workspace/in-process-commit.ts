import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsync, linkSync, openSync, readFileSync, realpathSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { lockFilesOf, unlinkQuietly, type HeldLock } from './lock-files.js';
import { deflateSync, inflateSync } from 'node:zlib';
import { parseVars, type Git } from './git.js';
import { overwriteInPlace } from './overwrite-file.js';
import { gitTimestamp } from './ref-files.js';
import { createInFolder } from '../create-in-folder.js';

const fsyncAsync = promisify(fsync);

/**
 * Commits made without starting git, for the tuner's worktree (decisions 41 and 42): the blobs,
 * trees and commit are written as loose objects the way git writes them (zlib, SHA-1, a
 * temporary file linked into place, read-only), and the worktree's detached HEAD is moved under
 * its lock. The trees of the commits it builds on are kept in memory, sharing unchanged
 * subtrees; a commit it has not seen costs one `git ls-tree` (the baseline, a commit made by git
 * elsewhere), after which every commit it makes on top is known.
 *
 * The index is not written: nothing reads it for a worktree whose changes are declared, and the
 * `git reset --hard` that next moves the worktree to another commit rehashes what it must.
 *
 * Only the plain case is done here; anything else is left to git: `open` gives null for a
 * SHA-256 or reftable repository, an object folder set by the environment, a shared repository (git adjusts
 * the files' permissions), a commit encoding other than UTF-8, dates fixed by the environment, or
 * attributes that could convert content (core.autocrlf, an attributes file of the user or the
 * repository, a `.gitattributes` in the tree: end-of-line conversion, LFS and other filters);
 * `commit` gives null (having written nothing that matters: unreachable objects at most) for a
 * path the base does not have as a regular file (a new file, a link, a submodule), a HEAD lock
 * held, or a write that fails.
 */

export interface FileChange {
  /** Path from the top of the repository, "/"-separated. */
  path: string;
  /** The new content; null: deleted. */
  content: Buffer | null;
  /** The file's executable bit on disk, when known: git must commit it if it is not the base's. */
  executable?: boolean;
}

export interface TreeEntry {
  mode: string;
  sha: string;
  /** The entries of a subtree, once known. */
  tree?: Tree;
}

export type Tree = Map<string, TreeEntry>;

const SHA1 = /^[0-9a-f]{40}$/;
const TREE_MODE = '40000';
const REMEMBERED_TREES = 64;
const FILE_MODES = new Set(['100644', '100755']);
/** Settings under which git writes objects or commits differently from what is done here. */
const GIT_DOES_IT = ['core.sharedrepository', 'i18n.commitencoding', 'extensions.objectformat', 'extensions.compatobjectformat', 'extensions.refstorage'];
const ENV_GIT_DOES_IT = ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_AUTHOR_DATE', 'GIT_COMMITTER_DATE', 'GIT_INDEX_FILE'];

/**
 * Root trees of the commits seen or made, by commit sha, the most recently used last. A commit's
 * id fixes its tree, so one cache serves every worktree of every repository in this process
 * (the agents' worktrees and the project folder alike); only the last few are kept, so that
 * 10,000 trials do not hold 10,000 root folders. The incumbent, used at every trial, stays.
 */
const rememberedTrees = new Map<string, Tree>();

/** The root tree of `commit`, if it is remembered (and now the most recently used). */
export function rememberedTree(commit: string): Tree | undefined {
  const tree = rememberedTrees.get(commit);
  if (tree !== undefined) rememberTree(commit, tree);
  return tree;
}

function rememberTree(commit: string, tree: Tree): void {
  rememberedTrees.delete(commit);
  rememberedTrees.set(commit, tree);
  if (rememberedTrees.size > REMEMBERED_TREES) rememberedTrees.delete(rememberedTrees.keys().next().value as string);
}

/**
 * `git var -l` of the repository `git` works in, lower-cased keys, when nothing in the settings,
 * the environment or the attributes asks git to write objects, commit or check out otherwise than
 * done in this process; null when git must do it.
 */
export async function plainGitSettings(git: Git, commonDir: string, env: NodeJS.ProcessEnv): Promise<Map<string, string> | null> {
  if (ENV_GIT_DOES_IT.some((name) => env[name] !== undefined)) return null;
  const vars = await git.listVars();
  if (vars.exitCode !== 0) return null;
  const values = parseVars(vars.stdout);
  if (GIT_DOES_IT.some((key) => values.has(key))) return null;
  // Attributes can ask git to convert what it commits or checks out (end of lines, LFS and other
  // filters): only git knows how. Those in the trees are checked per tree (parseLsTree).
  const autocrlf = values.get('core.autocrlf')?.toLowerCase();
  if (autocrlf !== undefined && autocrlf !== 'false') return null;
  if (values.has('core.attributesfile') || existsSync(path.join(commonDir, 'info', 'attributes'))) return null;
  // In a reftable repository HEAD is not the file written here.
  if (existsSync(path.join(commonDir, 'reftable'))) return null;
  const configHome = env['XDG_CONFIG_HOME'] || (env['HOME'] ? path.join(env['HOME'], '.config') : null);
  if (configHome === null || existsSync(path.join(configHome, 'git', 'attributes'))) return null;
  return values;
}

export class InProcessCommitter {
  private constructor(
    private readonly git: Git,
    private readonly objectsDir: string,
    private readonly headFile: string,
    private readonly author: string,
    private readonly committer: string,
  ) {}

  /** For the worktree `git` works in (its own git folder `gitDir`), or null when git must commit. */
  static async open(git: Git, gitDir: string, commonDir: string, env: NodeJS.ProcessEnv): Promise<InProcessCommitter | null> {
    const values = await plainGitSettings(git, commonDir, env);
    return values === null ? null : InProcessCommitter.withSettings(git, gitDir, commonDir, values);
  }

  /** As `open`, from settings `plainGitSettings` has read already. */
  static withSettings(git: Git, gitDir: string, commonDir: string, values: ReadonlyMap<string, string>): InProcessCommitter | null {
    const who = (name: string) => /^(.*>) \d+ [+-]\d{4}$/.exec(values.get(name) ?? '')?.[1];
    const author = who('git_author_ident');
    const committer = who('git_committer_ident');
    if (author === undefined || committer === undefined || /[\n\0]/.test(author + committer)) return null;
    return new InProcessCommitter(git, path.join(commonDir, 'objects'), path.join(gitDir, 'HEAD'), author, committer);
  }

  /**
   * Commits `changes` on top of `base` (the worktree's HEAD) and moves HEAD there; the new sha,
   * or null when git must do it (nothing moved).
   */
  async commit(base: string, changes: readonly FileChange[], message: string): Promise<string | null> {
    if (!SHA1.test(base) || changes.length === 0) return null;
    const root = await this.treeOf(base);
    if (root === null) return null;
    const objects = new ObjectBatch(this.objectsDir);
    try {
      const next = this.treeWith(root, changes, objects);
      if (next === null) return null;
      const now = gitTimestamp();
      const body = `tree ${next.sha}\nparent ${base}\nauthor ${this.author} ${now}\ncommitter ${this.committer} ${now}\n\n${message}`;
      const sha = objects.put('commit', Buffer.from(body, 'utf8'));
      // Every object is on disk, flushed, before HEAD names the commit.
      await objects.store();
      if (!this.moveHead(base, sha)) return null;
      rememberTree(sha, next.tree);
      return sha;
    } catch {
      return null;
    } finally {
      objects.discard();
    }
  }

  /** `root` with `changes` applied, and its id; the blobs and trees written as loose objects. Null when git must do it. */
  private treeWith(root: Tree, changes: readonly FileChange[], objects: ObjectBatch): { tree: Tree; sha: string } | null {
    const put = (type: 'blob' | 'tree', body: Buffer) => {
      const sha = objects.put(type, body);
      if (type === 'blob') rememberBlob(sha, body);
      return sha;
    };
    const tree = new Map(root);
    for (const change of changes) {
      if (!replaceEntry(tree, change.path.split('/'), change.content, put, change.executable)) return null;
    }
    return { tree, sha: hashTrees(tree, put) };
  }

  /**
   * Moves the worktree (its folder `top`) from `from`, where HEAD is, back to `to`, as
   * `git reset --hard` would for the files the two commits hold differently; false, with HEAD
   * not moved, when git must do it: a tree not in memory, a file added, removed or changing
   * kind between them, a file `mayWrite` refuses, or content not stored as a loose object (a
   * packed baseline). After a write failed some files may hold `to`'s content already; the
   * `git reset --hard` the caller then runs puts every file right.
   */
  checkout(from: string, to: string, top: string, mayWrite: (file: string) => boolean): boolean {
    const [a, b] = [rememberedTree(from), rememberedTree(to)];
    if (a === undefined || b === undefined || !SHA1.test(to)) return false;
    const changed = differingFiles(a, b, '');
    // A hidden file must never be written here: git's sparse checkout keeps it out.
    if (changed === null || !changed.every((file) => mayWrite(file.path))) return false;
    try {
      const contents = changed.map((file) => ({ ...file, content: readBlob(this.objectsDir, file.sha) }));
      if (contents.some((file) => file.content === null)) return false;
      for (const file of contents) {
        const target = path.join(top, file.path);
        // A folder on the way replaced by a link would take the write elsewhere: git copes.
        if (realpathSync(path.dirname(target)) !== path.dirname(target)) return false;
        const executable = file.mode === '100755';
        // In place where the file is a plain one of this worktree's own (decisions 74); else a
        // new file renamed over it, which replaces a link instead of writing through it.
        if (overwriteInPlace(target, file.content!, executable)) continue;
        const temp = `${target}.crucible-${process.pid}.tmp`;
        writeFileSync(temp, file.content!, { mode: executable ? 0o777 : 0o666 });
        renameSync(temp, target);
      }
      if (!this.moveHead(from, to)) return false;
      rememberTree(to, b);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * What `commit` holds at `topPath` (from the top of the repository): the file's bytes, read in
   * process; null when it holds no file there; undefined when only git can tell (a link, a
   * submodule, a blob packed or too large to read here).
   */
  async fileAt(commit: string, topPath: string): Promise<Buffer | null | undefined> {
    const root = SHA1.test(commit) ? await this.treeOf(commit) : null;
    if (root === null) return undefined;
    let tree: Tree = root;
    const names = topPath.split('/');
    for (const [i, name] of names.entries()) {
      const entry: TreeEntry | undefined = tree.get(name);
      if (entry === undefined) return null;
      if (i === names.length - 1) return FILE_MODES.has(entry.mode) ? (readBlob(this.objectsDir, entry.sha) ?? undefined) : entry.mode === TREE_MODE ? null : undefined;
      if (entry.mode !== TREE_MODE) return null;
      if (entry.tree === undefined) return undefined;
      tree = entry.tree;
    }
    return undefined;
  }

  /** The root tree of `commit`: remembered, else read with one `git ls-tree`. */
  private async treeOf(commit: string): Promise<Tree | null> {
    const known = rememberedTree(commit);
    if (known !== undefined) return known;
    const listed = await this.git.run(['ls-tree', '-r', '-t', '-z', '--full-tree', commit], { allowFail: true });
    if (listed.exitCode !== 0) return null;
    const root = parseLsTree(listed.stdout);
    if (root !== null) rememberTree(commit, root);
    return root;
  }

  private moveHead(from: string, to: string): boolean {
    return moveDetachedHead(path.dirname(this.objectsDir), this.headFile, from, to);
  }

}

/** An object written to a temporary file, not yet flushed or in place. */
interface StagedObject {
  fd: number | null;
  temp: string;
  file: string;
}

/**
 * The loose objects of one commit, written as git writes them (zlib, a temporary file linked into
 * place, read-only), but flushed together: each is written to its temporary file as it is made,
 * then `store` flushes them all at once (fsyncs in parallel, which the file system's journal
 * commits together) and links them into place. A commit's three or more objects cost about one
 * flush instead of one each, and none is in place, under its id, before it is on disk.
 */
class ObjectBatch {
  private readonly staged: StagedObject[] = [];

  constructor(private readonly objectsDir: string) {}

  /** Writes `body` as an object of `type` to a temporary file; its id. */
  put(type: 'blob' | 'tree' | 'commit', body: Buffer): string {
    const data = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
    const sha = createHash('sha1').update(data).digest('hex');
    const dir = path.join(this.objectsDir, sha.slice(0, 2));
    const temp = path.join(dir, `tmp_obj_crucible_${process.pid}_${Math.random().toString(36).slice(2)}`);
    const object: StagedObject = { fd: null, temp, file: path.join(dir, sha.slice(2)) };
    object.fd = openObjectTemp(temp);
    this.staged.push(object);
    writeSync(object.fd, deflateSync(data, { level: 1 }));
    return sha;
  }

  /** Flushes every object written, then puts each in place (an object already there is the same object, as git says). */
  async store(): Promise<void> {
    await Promise.all(this.staged.map((object) => fsyncAsync(object.fd!)));
    for (const object of this.staged) {
      closeSync(object.fd!);
      object.fd = null;
      try {
        linkSync(object.temp, object.file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      unlinkQuietly(object.temp);
    }
    this.staged.length = 0;
  }

  /** Closes and removes whatever was not stored (a failure on the way). */
  discard(): void {
    for (const object of this.staged) {
      if (object.fd !== null) closeSync(object.fd);
      unlinkQuietly(object.temp);
    }
    this.staged.length = 0;
  }
}

/** Creates `temp` (read-only, never an existing file) in its object folder, made when missing (git's prune removes empty ones). */
function openObjectTemp(temp: string): number {
  return createInFolder(temp, () => openSync(temp, 'wx', 0o444));
}

/**
 * Files larger than this are left to git, which streams them: a 100 MB edit must not cost
 * crucible 100 MB of memory more than once (the memory test holds it to 256 MB of heap).
 */
export const MAX_IN_PROCESS_FILE_BYTES = 8 * 1024 * 1024;

/** A loose blob's content, checked against its id; null when it is not loose (packed), not a blob, or too large. */
export function readLooseBlob(objectsDir: string, sha: string): Buffer | null {
  let data: Buffer;
  try {
    data = inflateSync(readFileSync(path.join(objectsDir, sha.slice(0, 2), sha.slice(2))), { maxOutputLength: MAX_IN_PROCESS_FILE_BYTES + 64 });
  } catch {
    return null;
  }
  const nul = data.indexOf(0);
  if (nul < 0 || !/^blob \d+$/.test(data.subarray(0, nul).toString('latin1'))) return null;
  if (createHash('sha1').update(data).digest('hex') !== sha) return null;
  return data.subarray(nul + 1);
}

/**
 * The content of blob `sha`: remembered, else read from its loose object (and remembered); null
 * when neither (a packed blob crucible never wrote nor read: git does the work).
 */
export function readBlob(objectsDir: string, sha: string): Buffer | null {
  const known = rememberedBlobs.get(sha);
  if (known !== undefined) {
    rememberedBlobs.delete(sha);
    rememberedBlobs.set(sha, known);
    return known;
  }
  const loose = readLooseBlob(objectsDir, sha);
  if (loose !== null) rememberBlob(sha, loose);
  return loose;
}

/**
 * Remembers `content` as blob `sha` (the caller has its id from hashing it, or wrote it). After
 * `git gc` packs the objects, which a run's `gc --auto` does once there are enough of them (about
 * 2,500 trials), the baseline's and the best commit's blobs are no longer loose: without this,
 * every later move to them was git's (two processes a trial, found by a 10,000-trial run).
 */
export function rememberBlob(sha: string, content: Buffer): void {
  if (content.length > MAX_REMEMBERED_BLOB_BYTES || rememberedBlobs.has(sha)) return;
  rememberedBlobs.set(sha, content);
  rememberedBlobBytes += content.length;
  for (const [oldest, old] of rememberedBlobs) {
    if (rememberedBlobBytes <= REMEMBERED_BLOB_BYTES && rememberedBlobs.size <= MAX_REMEMBERED_BLOBS) break;
    rememberedBlobs.delete(oldest);
    rememberedBlobBytes -= old.length;
  }
}

/** Blob contents by id, least recently used first, REMEMBERED_BLOB_BYTES and MAX_REMEMBERED_BLOBS at most. */
const rememberedBlobs = new Map<string, Buffer>();
let rememberedBlobBytes = 0;
const REMEMBERED_BLOB_BYTES = 16 * 1024 * 1024;
/**
 * Small blobs (a trial's edit of a short file) cost more to keep than their bytes say: without a
 * count, a long run kept every trial's, a few hundred bytes of heap each. Those a run goes back to
 * (the best commit's, the baseline's) are used again and again, so they stay the most recent.
 */
const MAX_REMEMBERED_BLOBS = 1024;
/** A trial edits source files: a larger blob is read from its object, or by git, each time. */
const MAX_REMEMBERED_BLOB_BYTES = 1024 * 1024;

/**
 * A detached HEAD (its file `headFile`, in the repository whose common git folder is `commonDir`)
 * from `from` to `to` under HEAD.lock, as git moves it; false when it is not at `from` or the lock
 * is held.
 */
export function moveDetachedHead(commonDir: string, headFile: string, from: string, to: string): boolean {
  let lock: HeldLock;
  try {
    lock = lockFilesOf(commonDir).take(headFile);
  } catch {
    return false;
  }
  try {
    if (readFileSync(headFile, 'utf8').trim() !== from) {
      lock.release();
      return false;
    }
    lock.write(`${to}\n`);
    lock.commit();
    return true;
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** The id git gives `body` as an object of `type`. */
function objectId(type: 'blob' | 'tree', body: Buffer): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}

/** The id git gives `content` as a blob. */
export function blobId(content: Buffer): string {
  return objectId('blob', content);
}

type PutObject = (type: 'blob' | 'tree', body: Buffer) => string;

/** Puts `content` at `parts` in `tree` (copying the subtrees on the way); false when git must. */
function replaceEntry(tree: Tree, parts: readonly string[], content: Buffer | null, put: PutObject, executable?: boolean): boolean {
  const [name, ...rest] = parts;
  if (name === undefined || name === '' || name === '.' || name === '..') return false;
  const entry = tree.get(name);
  if (entry === undefined) return false;
  if (rest.length === 0) {
    if (!FILE_MODES.has(entry.mode) || (executable !== undefined && executable !== (entry.mode === '100755'))) return false;
    if (content === null) tree.delete(name);
    else tree.set(name, { mode: entry.mode, sha: put('blob', content) });
    return true;
  }
  if (entry.mode !== TREE_MODE || entry.tree === undefined) return false;
  const sub = new Map(entry.tree);
  if (!replaceEntry(sub, rest, content, put, executable)) return false;
  // git drops a folder whose last file was deleted.
  if (sub.size === 0) tree.delete(name);
  else tree.set(name, { mode: TREE_MODE, sha: '', tree: sub });
  return true;
}

/** Puts the trees changed since they were read (those with no sha yet), bottom up; the root's sha. */
function hashTrees(tree: Tree, put: PutObject): string {
  for (const [name, entry] of tree) {
    if (entry.mode === TREE_MODE && entry.sha === '' && entry.tree !== undefined) tree.set(name, { ...entry, sha: hashTrees(entry.tree, put) });
  }
  return put('tree', encodeTree(tree));
}

/** A regular file two trees hold with different content: its mode, `a`'s blob (`was`) and `b`'s (`sha`). */
export interface DifferingFile {
  path: string;
  mode: string;
  was: string;
  sha: string;
}

/**
 * The regular files `a` and `b` hold with different content (same mode); null when anything else
 * differs (a file added or removed, a mode, a link, a folder's kind).
 */
export function differingFiles(a: Tree, b: Tree, prefix: string): DifferingFile[] | null {
  const out: DifferingFile[] = [];
  if (a.size !== b.size) return null;
  for (const [name, entryA] of a) {
    const entryB = b.get(name);
    if (entryB === undefined || entryA.mode !== entryB.mode) return null;
    if (entryA.sha === entryB.sha && entryA.sha !== '') continue;
    const file = prefix === '' ? name : `${prefix}/${name}`;
    if (entryA.mode === TREE_MODE) {
      if (entryA.tree === undefined || entryB.tree === undefined) return null;
      const inner = differingFiles(entryA.tree, entryB.tree, file);
      if (inner === null) return null;
      // One by one: spread into push, a folder of over 120,000 changed files overflowed the stack.
      for (const changed of inner) out.push(changed);
    } else if (FILE_MODES.has(entryA.mode)) out.push({ path: file, mode: entryB.mode, was: entryA.sha, sha: entryB.sha });
    else return null;
  }
  return out;
}

/**
 * `git ls-tree -r -t -z --full-tree` output as nested trees; null when it holds anything
 * unexpected, or a `.gitattributes` (what git commits there may not be the file's bytes).
 */
export function parseLsTree(output: string): Tree | null {
  // A name that is not UTF-8 came back with replacement characters: written back, it would be
  // another name.
  if (output.includes('\uFFFD')) return null;
  const root: Tree = new Map();
  const folders = new Map<string, Tree>([['', root]]);
  for (const record of output.split('\0')) {
    if (record === '') continue;
    const match = /^(\d{5,6}) (blob|tree|commit) ([0-9a-f]{40})\t(.+)$/s.exec(record);
    if (match === null) return null;
    const [, mode, type, sha, file] = match as unknown as [string, string, string, string, string];
    const slash = file.lastIndexOf('/');
    const parent = folders.get(slash < 0 ? '' : file.slice(0, slash));
    if (parent === undefined) return null;
    const name = file.slice(slash + 1);
    if (name === '.gitattributes') return null;
    if (type === 'tree') {
      const tree: Tree = new Map();
      folders.set(file, tree);
      // ls-tree pads a folder's mode to 040000; a tree object says 40000.
      parent.set(name, { mode: TREE_MODE, sha, tree });
    } else parent.set(name, { mode, sha });
  }
  return root;
}

/** A tree object's body: entries in git's order (a folder sorts as if its name ended in "/"). */
export function encodeTree(tree: Tree): Buffer {
  const key = (name: string, entry: TreeEntry) => Buffer.from(entry.mode === TREE_MODE ? `${name}/` : name, 'utf8');
  const entries = [...tree].sort(([a, ea], [b, eb]) => Buffer.compare(key(a, ea), key(b, eb)));
  return Buffer.concat(entries.flatMap(([name, entry]) => [Buffer.from(`${entry.mode} ${name}\0`, 'utf8'), Buffer.from(entry.sha, 'hex')]));
}
