import { lstatSync, readFileSync, realpathSync, type Stats } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProjectError } from '../errors.js';
import type { AccessPolicy } from './access-policy.js';
import { createGit, type Git } from './git.js';
import { IndexCheckout } from './index-checkout.js';
import { InProcessCommitter, MAX_IN_PROCESS_FILE_BYTES, moveDetachedHead, plainGitSettings, type FileChange } from './in-process-commit.js';
import { repoLayout, type RepoLayout } from './project-git.js';
import { scanTrackedFiles } from './tracked-scan.js';
import { changedCopies, createReadonlyCopies, listReadonlyFiles, restoreCopies, type ReadonlyCopy } from './readonly-copies.js';
import { formatNewFileDiff } from './new-file-diff.js';
import { literalPattern, sparsePatterns } from './sparse-patterns.js';
import {
  createPrivateFolder,
  lockReason,
  registeredGitDir,
  removeRegisteredWorktree,
  removeStaleWorktrees,
  worktreeId,
  worktreeName,
  worktreeParent,
  type PrivateFolder,
} from './worktree-location.js';
import { classifyStatus, parseNameStatus, parseStatus, touchesIndex, type WorktreeChange } from './worktree-change.js';

/**
 * The folder the agent edits: a git worktree outside the project, without the hidden files, in a
 * private folder of its own (see worktree-location.ts). Nothing in it leads back to the project's
 * repository: it has no `.git`; crucible runs git there with explicit --git-dir and --work-tree.
 */
export interface AgentWorktree {
  /** The project folder's counterpart in the worktree; absolute, real path. */
  readonly root: string;
  /**
   * A folder beside the worktree, in the same private folder, for a command agent's own git
   * repository (created by whoever uses it). Outside the worktree and the project.
   */
  readonly agentGitDir: string;
  /**
   * Back to exactly `commit`: tracked files restored, everything the agent created removed.
   * `cleanAt`: the commit the caller knows the worktree is clean at (it was committed there and
   * no agent has worked in it since), which lets a worktree whose commits are written in process
   * move without git (decisions 42).
   */
  reset(commit: string, cleanAt?: string): Promise<void>;
  /** Whether a reset from a commit it is clean at is done in this process, as a rule (git's settings allow it). */
  movesInProcess(): Promise<boolean>;
  /** What the agent changed since the last reset, sorted by path. */
  changes(): Promise<WorktreeChange[]>;
  /**
   * changes() without asking git, for an in-process backend that says which files it wrote
   * (Proposal.writtenFiles): each is described from disk (a link or a folder still shows up as
   * one), and commit() then commits exactly these paths, whatever else the worktree holds. Falls
   * back to changes() when HEAD is not where the last reset left it.
   */
  declaredChanges(paths: readonly string[]): Promise<WorktreeChange[]>;
  /** Unified diff of those changes (all, or only `paths`), new files included. */
  diff(paths?: readonly string[]): Promise<string>;
  /**
   * What each of `paths` (project-relative) holds at `commit`, read in process: its bytes, or null
   * where the commit holds no such file. Null when git alone can read one of them (a packed or
   * large blob, a link, settings under which crucible leaves commits to git).
   */
  filesAt(commit: string, paths: readonly string[]): Promise<Map<string, Buffer | null> | null>;
  /** Whether `commit` holds a file or a link at `file` (project-relative). */
  holds(commit: string, file: string): Promise<boolean>;
  /**
   * Commits the agent's changes to `paths` (project-relative) on the worktree's detached HEAD and
   * returns the new commit's sha. The worktree is then clean at that commit, its files and HEAD;
   * its index may still hold the base until `settle` or the next `reset` (decisions 76). Nothing
   * in the project changes: the loop moves the run branch there itself.
   */
  commit(paths: readonly string[], message: string): Promise<string>;
  /**
   * Before an agent's turn at the commit of the last `commit` (no reset since): the worktree made
   * exactly as git leaves a commit, its index included. Nothing to do, as a rule.
   */
  settle(): Promise<void>;
  /** Deletes the worktree, its private folder and its registration in the project's repository. */
  remove(): Promise<void>;
}

export interface OpenAgentWorktreeOptions {
  projectDir: string;
  /** The run's tag: one worktree per project and tag; opening one removes what a killed run of the same tag left. */
  tag: string;
  /** The commit to start from (the run branch's head). */
  commit: string;
  policy: AccessPolicy;
  /** Folder under which the worktree's private folder is made. Default: $CRUCIBLE_WORKTREE_DIR, else the system temp folder. */
  baseDir?: string;
  /** Environment for git (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Which of the run's concurrent worktrees this is (0, the default, is the first). Only the first
   * removes what a killed run left: all of a run's worktrees share one id, so the others would
   * remove the first.
   */
  lane?: number;
  /** The project's repoLayout, where it is known already (saves a git process). */
  layout?: RepoLayout;
}

// Sparse checkout is switched on per command instead of in the repository's config, so the
// user's repository config is never rewritten.
const SPARSE_CONFIG = ['core.sparseCheckout=true', 'core.sparseCheckoutCone=false'];

export async function openAgentWorktree(opts: OpenAgentWorktreeOptions): Promise<AgentWorktree> {
  const projectDir = await realpath(opts.projectDir);
  const layout = opts.layout ?? (await repoLayout(projectDir, { env: opts.env }));
  const projectGit = createGit(layout.top, { env: opts.env });
  const parent = await worktreeParent(opts.baseDir, opts.env ?? process.env, layout.top);
  const id = worktreeId(layout.prefix, opts.tag);
  // Never reused: a fresh worktree is cheap, and nothing done to the old one can carry over.
  if (!opts.lane) await removeStaleWorktrees(projectGit, layout.commonDir, id);
  const folder = await createPrivateFolder(parent, path.basename(projectDir));
  const top = path.join(folder.dir, worktreeName(opts.tag) + (opts.lane ? `-${opts.lane}` : ''));
  try {
    return await checkOutWorktree(opts, projectDir, layout, projectGit, folder, top, id);
  } catch (error) {
    await removeRegisteredWorktree(projectGit, top, folder.token).catch(() => undefined);
    throw error;
  }
}

async function checkOutWorktree(
  opts: OpenAgentWorktreeOptions,
  projectDir: string,
  layout: RepoLayout,
  projectGit: Git,
  folder: PrivateFolder,
  top: string,
  id: string,
): Promise<AgentWorktree> {
  // Locked as it is made, before its `.git` goes: `git worktree prune` (by the user, or git gc)
  // would take a worktree without one for a deleted one. The reason is how the next run finds it.
  await projectGit.run(['worktree', 'add', '--detach', '--no-checkout', '--lock', '--reason', lockReason(id, folder.token), top, opts.commit]);
  const gitDir = await registeredGitDir(top, layout.commonDir);
  if (!gitDir) throw new Error(`git worktree add did not register ${top}`);
  await removeGitPointer(top);
  // Written before anything is checked out, so hidden files never touch the disk.
  await mkdir(path.join(gitDir, 'info'), { recursive: true });
  await writeFile(path.join(gitDir, 'info', 'sparse-checkout'), sparsePatterns(opts.policy.hidden, layout.prefix));

  const git = createGit(top, {
    env: opts.env,
    config: SPARSE_CONFIG,
    // Explicit: the worktree has no `.git` to find them by.
    globalArgs: [`--git-dir=${gitDir}`, `--work-tree=${top}`],
  });
  const worktree = new GitAgentWorktree(git, projectGit, top, gitDir, layout.prefix, folder, {
    commonDir: layout.commonDir,
    env: opts.env ?? process.env,
    policy: opts.policy,
  });
  await worktree.checkOutFirst(opts.commit);
  await mkdir(worktree.root, { recursive: true });
  await assertNoHiddenFiles(worktree.root, opts.policy);
  await worktree.addReadonlyCopies(projectDir, opts.policy);
  return worktree;
}

/**
 * `<worktree>/.git` names the project's repository (`gitdir: <project>/.git/worktrees/<name>`):
 * any git run in the worktree without GIT_DIR would reach the project's history, hidden files
 * included, and its branches. crucible never needs it, so it is never there.
 */
async function removeGitPointer(top: string): Promise<void> {
  const file = path.join(top, '.git');
  if (await lstat(file).catch(() => null)) await rm(file, { recursive: true, force: true });
}

class GitAgentWorktree implements AgentWorktree {
  readonly root: string;
  readonly agentGitDir: string;
  private readonly git: Git;
  private readonly projectGit: Git;
  private readonly top: string;
  private readonly gitDir: string;
  /** The project folder relative to `top`; "" when they coincide. */
  private readonly prefix: string;
  /** The private folder holding `top`. */
  private readonly folder: PrivateFolder;
  /** The commit of the last reset: what changes are measured against. */
  private base = '';
  private copies: ReadonlyCopy[] = [];
  /**
   * The scan made since the last reset, reused by diff() and reset(); null when none was made.
   * `declared`: taken from the backend's word (declaredChanges), not from git.
   */
  private lastScan: { changes: WorktreeChange[]; untracked: Set<string>; declared?: true } | null = null;
  /** git's settings here (`git var -l`), read once, when they let crucible do git's work; else null. */
  private settings: Promise<ReadonlyMap<string, string> | null> | undefined;
  /** Writes commits in process: the declared ones (the tuner's), and a scanned change of edited files. */
  private committer: Promise<InProcessCommitter | null> | undefined;
  /** For scanned worktrees (command agents), whose index git keeps right: the move back after a discard. */
  private indexCheckout: Promise<IndexCheckout | null> | undefined;
  /**
   * Set at the first declared commit (the tuner's): those are written without the index, so the
   * move back after a discard rewrites files and HEAD only, and the index is left to git.
   */
  private declaredCommits = false;
  /**
   * An index known to hold exactly the tree of `head`: its checksum, seen after git or this
   * process left it so. The same bytes always hold the same tree, so a pair never goes stale; an
   * index with other bytes (the agent ran `git add`) is simply not known, and git scans it.
   */
  private cleanIndex: { head: string; checksum: string } | null = null;
  /** The commit the last reset moved to in process, from a clean worktree; null once anything else was done. */
  private movedInProcessTo: string | null = null;
  /**
   * A commit made in process whose index entries were left for later (decisions 76): HEAD and the
   * files are at it, the index still holds `cleanIndex.head`, the base it was made on. A trial
   * not kept goes back there without writing the index at all; one the worktree stays at has
   * them written before anything reads them.
   */
  private indexBehind: string | null = null;

  constructor(
    git: Git,
    projectGit: Git,
    top: string,
    gitDir: string,
    prefix: string,
    folder: PrivateFolder,
    /** For commits in process: where the objects are, git's environment, what may be written without git. */
    private readonly repo: { commonDir: string; env: NodeJS.ProcessEnv; policy: AccessPolicy },
  ) {
    this.folder = folder;
    this.agentGitDir = path.join(folder.dir, 'agent-git');
    this.git = git;
    this.projectGit = projectGit;
    this.top = top;
    this.gitDir = gitDir;
    this.prefix = prefix;
    this.root = prefix === '' ? top : path.join(top, prefix);
  }

  async addReadonlyCopies(projectDir: string, policy: AccessPolicy): Promise<void> {
    this.copies = await createReadonlyCopies(projectDir, this.root, await listReadonlyFiles(projectDir, policy));
  }

  /**
   * The first checkout, into the folder `git worktree add --no-checkout` just made in a private
   * folder and emptied of its `.git`: nothing untracked can be there, so nothing is cleaned.
   */
  async checkOutFirst(commit: string): Promise<void> {
    this.lastScan = { changes: [], untracked: new Set() };
    await this.reset(commit);
  }

  async reset(commit: string, cleanAt?: string): Promise<void> {
    // A shell agent could have moved its workspace and left a link in its place: git would then
    // reset and clean wherever the link points.
    if (realpathOrNull(this.top) !== this.top) {
      throw new ProjectError(`the agent workspace ${this.top} is no longer the folder crucible made (moved, or replaced by a link); left as it is`);
    }
    if (this.indexBehind !== null && (await this.backToIndex(commit, cleanAt))) return;
    const committer = this.declaredCommits ? await this.openCommitter() : null;
    if (committer !== null && cleanAt !== undefined && this.readHead() === cleanAt && committer.checkout(cleanAt, commit, this.top, (p) => this.editable(p))) {
      this.lastScan = null;
      await restoreCopies(this.root, this.copies);
      this.base = commit;
      return;
    }
    // A scanned worktree (a command agent's) whose change git committed whole: its index holds
    // the commit, so the move back is done in process, index included (decisions 45).
    // Or one this process moved there itself, in process, with nothing done here since (the caller's
    // cleanAt says no agent turn came between): a lane moved to the incumbent ahead of its next
    // proposal, then on to a trial that was kept.
    const scannedClean = this.lastScan !== null && this.lastScan.declared !== true && this.lastScan.untracked.size === 0 && this.lastScan.changes.length === 0;
    const movedClean = cleanAt !== undefined && this.movedInProcessTo === cleanAt;
    this.movedInProcessTo = null;
    if (!this.declaredCommits && cleanAt !== undefined && (scannedClean || movedClean) && (await this.moveInProcess(cleanAt, commit))) {
      this.movedInProcessTo = commit;
      this.lastScan = null;
      await restoreCopies(this.root, this.copies);
      this.base = commit;
      return;
    }
    // An agent that checked out a branch here must not have it moved by the reset below.
    if (this.readHead().startsWith('ref:')) await this.git.run(['update-ref', '--no-deref', 'HEAD', commit]);
    await this.git.run(['reset', '-q', '--hard', commit]);
    // `git clean` is only needed when something untracked may be there: each git process counts
    // in a loop of thousands of trials. Without a scan since the last reset, assume the worst.
    if (this.lastScan === null || this.lastScan.untracked.size > 0) {
      const keep = this.copies.flatMap((copy) => ['-e', literalPattern(this.topRelative(copy.path))]);
      await this.git.run(['clean', '-ffdxq', ...keep]);
    }
    this.lastScan = null;
    await restoreCopies(this.root, this.copies);
    await removeGitPointer(this.top);
    this.base = this.readHead();
    // `reset --hard` left the index holding the commit.
    this.noteCleanIndex(this.base);
  }

  async settle(): Promise<void> {
    const behind = this.indexBehind;
    this.indexBehind = null;
    // HEAD moved by something else since (nothing of crucible's): the next reset is git's anyway.
    if (behind === null || this.readHead() !== behind) return;
    const checkout = await this.openIndexCheckout();
    const clean = this.cleanIndex;
    if (clean !== null && checkout?.record(clean.head, behind, clean.checksum) === true && checkout.lastWritten !== null) {
      this.cleanIndex = { head: behind, checksum: checkout.lastWritten };
      return;
    }
    // A file rewritten since the commit (a process the agent left behind), a mode changed beside
    // the content: git brings the index to HEAD, leaving the files as they are.
    await this.git.run(['reset', '-q', '--mixed', behind]);
    this.noteCleanIndex(behind);
  }

  /**
   * The reset from a commit whose index entries were left for later (`indexBehind`, where HEAD
   * still is) back to `commit`, the base the index holds: the files that differ and HEAD moved in
   * process, the index left as it is; its entries' stat data then differ from the files', which
   * makes git and the scan compare those files' content. True when done; else the index is
   * brought up to the commit first and the reset goes on as usual.
   */
  private async backToIndex(commit: string, cleanAt: string | undefined): Promise<boolean> {
    const behind = this.indexBehind!;
    if (cleanAt === behind && this.cleanIndex?.head === commit && this.readHead() === behind) {
      this.indexBehind = null;
      const committer = await this.openCommitter();
      if (committer?.checkout(behind, commit, this.top, (p) => this.editable(p)) === true) {
        this.movedInProcessTo = commit;
        this.lastScan = null;
        await restoreCopies(this.root, this.copies);
        this.base = commit;
        return true;
      }
      this.indexBehind = behind;
    }
    await this.settle();
    return false;
  }

  async movesInProcess(): Promise<boolean> {
    return (await (this.declaredCommits ? this.openCommitter() : this.openIndexCheckout())) !== null;
  }

  async changes(): Promise<WorktreeChange[]> {
    this.movedInProcessTo = null;
    this.lastScan = await this.scan();
    return this.lastScan.changes;
  }

  async declaredChanges(paths: readonly string[]): Promise<WorktreeChange[]> {
    this.movedInProcessTo = null;
    if (this.readHead() !== this.base) return this.changes();
    const unique = [...new Set(paths)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const changes = unique.map((p) => this.describe(this.topRelative(p), lstatOrNull(path.join(this.root, p)) !== null ? 'modified' : 'deleted'));
    this.lastScan = { changes, untracked: new Set(), declared: true };
    return changes;
  }

  async diff(paths?: readonly string[]): Promise<string> {
    const { changes, untracked } = this.lastScan ?? (await this.scan());
    const wanted = paths ? new Set(paths) : null;
    const selected = changes.filter((c) => !wanted || wanted.has(c.path));
    const copied = new Set(this.copies.map((c) => c.path));
    const viaGit = selected.filter((c) => !untracked.has(c.path) && !copied.has(c.path)).map((c) => c.path);
    const parts: string[] = [];
    if (viaGit.length > 0) {
      const args = ['--literal-pathspecs', 'diff', '--no-color', '--no-ext-diff', '--no-renames', this.base];
      if (this.prefix !== '') args.splice(5, 0, `--relative=${this.prefix}`);
      parts.push((await this.git.run([...args, '--', ...viaGit.map((p) => this.topRelative(p))])).stdout);
    }
    for (const change of selected) {
      if (untracked.has(change.path)) parts.push(await formatNewFileDiff(this.root, change.path));
      else if (copied.has(change.path)) parts.push(`diff --git a/${change.path} b/${change.path}\n# read-only copy ${change.kind}\n`);
    }
    return parts.join('');
  }

  async filesAt(commit: string, paths: readonly string[]): Promise<Map<string, Buffer | null> | null> {
    const committer = await this.openCommitter();
    if (committer === null) return null;
    const out = new Map<string, Buffer | null>();
    for (const file of paths) {
      const content = await committer.fileAt(commit, this.topRelative(file));
      if (content === undefined) return null;
      out.set(file, content);
    }
    return out;
  }

  async holds(commit: string, file: string): Promise<boolean> {
    const known = await (await this.openCommitter())?.fileAt(commit, this.topRelative(file));
    if (known !== undefined) return known !== null;
    const listed = await this.git.run(['--literal-pathspecs', 'ls-tree', '--full-tree', '--name-only', commit, '--', this.topRelative(file)], { allowFail: true });
    return listed.exitCode === 0 && listed.stdout.trim() !== '';
  }

  async commit(paths: readonly string[], message: string): Promise<string> {
    this.movedInProcessTo = null;
    // An agent with a shell may have committed or switched HEAD here: the trial's commit must sit
    // directly on the commit of the last reset, holding exactly `paths` and nothing of its own.
    const head = this.readHead();
    const wanted = new Set(paths);
    const scan = this.lastScan;
    if (head === this.base && scan?.declared === true) {
      // Only the declared paths, whatever else is in the worktree (something outside crucible
      // may have written there): written in process (decisions 42), else `commit --only`.
      const sha = (await this.commitInProcess(scan.changes, wanted, message)) ?? (await this.git.commitFiles(paths.map((p) => this.topRelative(p)), message));
      this.base = sha;
      this.lastScan = { changes: [], untracked: new Set() };
      return sha;
    }
    // The common case: the agent only modified or deleted exactly these tracked files and left
    // HEAD and the index alone, so `commit -a` commits exactly them; done in process when it can be.
    if (
      head === this.base &&
      scan !== null &&
      scan.untracked.size === 0 &&
      this.copies.length === 0 &&
      scan.changes.length === wanted.size &&
      scan.changes.every((c) => c.kind !== 'added' && wanted.has(c.path))
    ) {
      let fast = await this.commitScanned(scan.changes, message);
      if (fast === null) {
        fast = await this.git.commitTracked(message);
        this.noteCleanIndex(fast);
      }
      this.base = fast;
      this.lastScan = { changes: [], untracked: new Set() };
      return fast;
    }
    if (head.startsWith('ref:')) await this.git.run(['update-ref', '--no-deref', 'HEAD', this.base]);
    else if (head !== this.base) await this.git.run(['reset', '-q', '--soft', this.base]);
    const sha = await this.git.commitFiles(
      paths.map((p) => this.topRelative(p)),
      message,
    );
    this.base = sha;
    this.lastScan = { changes: [], untracked: new Set() };
    return sha;
  }

  /** Files, index and HEAD from `from` (where HEAD is) to `to`, without git; false when git must. */
  private async moveInProcess(from: string, to: string): Promise<boolean> {
    if (this.readHead() !== from) return false;
    const checkout = await this.openIndexCheckout();
    const clean = this.cleanIndex?.head === from ? this.cleanIndex.checksum : undefined;
    if (checkout === null || !checkout.move(from, to, (p) => this.editable(p), clean)) return false;
    // The index held `from`'s tree and now holds `to`'s: the files that differ were all that changed.
    this.cleanIndex = clean !== undefined && checkout.lastWritten !== null ? { head: to, checksum: checkout.lastWritten } : null;
    // HEAD moved meanwhile (it cannot: the agent's turn is over): git's reset puts everything right.
    return moveDetachedHead(this.repo.commonDir, path.join(this.gitDir, 'HEAD'), from, to);
  }

  private openIndexCheckout(): Promise<IndexCheckout | null> {
    this.indexCheckout ??= this.readSettings().then((values) => values && IndexCheckout.forWorktree(this.top, { gitDir: this.gitDir, commonDir: this.repo.commonDir }, values));
    return this.indexCheckout;
  }

  /**
   * `git commit -a` done in process for a scanned change that only edited tracked files (each
   * listed in `changes`), on an index known to hold the base: objects and HEAD by the committer.
   * The index entries are left at the base (`indexBehind`): `settle` writes them as git's commit
   * leaves them, with the index checkout it needs, should the worktree stay at the commit. Null,
   * with nothing moved, when git must do it.
   */
  private async commitScanned(changes: readonly WorktreeChange[], message: string): Promise<string | null> {
    const clean = this.cleanIndex;
    if (clean === null || clean.head !== this.base || changes.some((c) => c.kind !== 'modified' || c.special !== undefined)) return null;
    const [checkout, committer] = [await this.openIndexCheckout(), await this.openCommitter()];
    if (checkout === null || committer === null) return null;
    const files: FileChange[] = [];
    for (const change of changes) {
      const file = path.join(this.root, change.path);
      const info = lstatOrNull(file);
      if (!info?.isFile() || info.size > MAX_IN_PROCESS_FILE_BYTES) return null;
      files.push({ path: this.topRelative(change.path), content: readFileSync(file), executable: (info.mode & 0o100) !== 0 });
    }
    const sha = await committer.commit(this.base, files, message);
    // Most trials are not kept, and their way back then finds the index where it is (decisions 76).
    if (sha !== null) this.indexBehind = sha;
    return sha;
  }

  /** Notes the index as it is on disk as holding `head`'s tree (git just left it so). */
  private noteCleanIndex(head: string): void {
    let data: Buffer | null;
    try {
      data = readFileSync(path.join(this.gitDir, 'index'));
    } catch {
      data = null;
    }
    this.cleanIndex = data === null || data.length < 20 ? null : { head, checksum: data.toString('hex', data.length - 20) };
  }

  private readSettings(): Promise<ReadonlyMap<string, string> | null> {
    this.settings ??= plainGitSettings(this.git, this.repo.commonDir, this.repo.env).catch(() => null);
    return this.settings;
  }

  private openCommitter(): Promise<InProcessCommitter | null> {
    this.committer ??= this.readSettings().then((values) => values && InProcessCommitter.withSettings(this.git, this.gitDir, this.repo.commonDir, values));
    return this.committer;
  }

  /** The declared changes to `paths` committed without git; null when git must do it. */
  private async commitInProcess(changes: readonly WorktreeChange[], paths: ReadonlySet<string>, message: string): Promise<string | null> {
    const chosen = changes.filter((c) => paths.has(c.path));
    if (chosen.length !== paths.size || chosen.some((c) => c.special !== undefined || c.kind === 'added')) return null;
    this.declaredCommits = true;
    const committer = await this.openCommitter();
    if (committer === null) return null;
    const files: FileChange[] = [];
    for (const change of chosen) {
      const file = path.join(this.root, change.path);
      const info = lstatOrNull(file);
      if (change.kind === 'deleted' ? info !== null : !info?.isFile() || info.size > MAX_IN_PROCESS_FILE_BYTES) return null;
      files.push({ path: this.topRelative(change.path), content: change.kind === 'deleted' ? null : readFileSync(file) });
    }
    return committer.commit(this.base, files, message);
  }

  async remove(): Promise<void> {
    await removeRegisteredWorktree(this.projectGit, this.top, this.folder.token);
  }

  /** The scan without git, when the index is one known clean at the base and nothing is copied in; null when git must. */
  private async scanInProcess(): Promise<ReturnType<typeof scanTrackedFiles>> {
    if (this.cleanIndex?.head !== this.base || this.copies.length > 0 || (await this.openIndexCheckout()) === null) return null;
    return scanTrackedFiles(this.top, path.join(this.gitDir, 'index'), this.cleanIndex.checksum);
  }

  /** In process when it can be (see scanInProcess); else one `git status` when the agent left git alone, a tree diff when it staged or committed. */
  private async scan(): Promise<{ changes: WorktreeChange[]; untracked: Set<string> }> {
    let found: Array<{ path: string; kind: WorktreeChange['kind'] }>;
    let untracked: string[];
    const atBase = this.readHead() === this.base;
    const tracked = atBase ? await this.scanInProcess() : null;
    const entries = tracked !== null ? null : atBase
      ? parseStatus((await this.git.run(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames'])).stdout)
      : null;
    if (tracked !== null) {
      found = [...tracked.modified.map((p) => ({ path: p, kind: 'modified' as const })), ...tracked.deleted.map((p) => ({ path: p, kind: 'deleted' as const }))];
      untracked = [];
    } else if (entries && !touchesIndex(entries)) {
      // git's status found the index holding HEAD (whatever it wrote back): later scans may skip it.
      this.noteCleanIndex(this.base);
      found = classifyStatus(entries);
      untracked = found.filter((c) => c.kind === 'added').map((c) => c.path);
    } else {
      const diff = await this.git.run(['diff', '--name-status', '-z', '--no-renames', '--no-ext-diff', this.base]);
      const others = await this.git.run(['ls-files', '-z', '--others', '--exclude-standard']);
      untracked = others.stdout.split('\0').filter(Boolean).map((p) => p.replace(/\/$/, ''));
      // A path the agent removed from the index but kept on disk shows up as deleted and as
      // untracked: it is a modification of that path.
      const byPath = new Map(parseNameStatus(diff.stdout).map((c) => [c.path, c]));
      for (const p of untracked) byPath.set(p, { path: p, kind: byPath.has(p) ? 'modified' : 'added' });
      found = [...byPath.values()];
    }
    const copied = new Set(this.copies.map((c) => this.topRelative(c.path)));
    const changes = found.filter((c) => !copied.has(c.path)).map((c) => this.describe(c.path, c.kind));
    changes.push(...(await changedCopies(this.copies)));
    changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { changes, untracked: new Set(untracked.map((p) => this.projectRelative(p))) };
  }

  private describe(topPath: string, kind: WorktreeChange['kind']): WorktreeChange {
    const change: WorktreeChange = { path: this.projectRelative(topPath), kind };
    if (kind === 'deleted') return change;
    const info = lstatOrNull(path.join(this.top, topPath));
    if (info?.isSymbolicLink()) change.special = 'symlink';
    else if (info && !info.isFile()) change.special = 'other';
    return change;
  }

  /** An editable file of the project (a path from the top of the repository): never hidden, never outside the project. */
  private editable(topPath: string): boolean {
    const rel = this.projectRelative(topPath);
    return !rel.startsWith('../') && this.repo.policy.classify(rel) === 'editable';
  }

  private topRelative(projectPath: string): string {
    return this.prefix === '' ? projectPath : path.posix.join(this.prefix, projectPath);
  }

  private projectRelative(topPath: string): string {
    return this.prefix === '' ? topPath : path.posix.relative(this.prefix, topPath);
  }

  /** The worktree's HEAD, read from disk: cheaper than a git process, and always a sha (detached). */
  private readHead(): string {
    return readFileSync(path.join(this.gitDir, 'HEAD'), 'utf8').trim();
  }
}

/*
 * A trial reads its worktree's HEAD, its changed files and their stats several times: read at
 * once rather than through the thread pool, whose round trips cost a serial trial more than the
 * reads themselves (decisions 65).
 */
function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null; // gone, or a folder on the way is no longer one (ENOTDIR), as the stat promise's catch said
  }
}

function realpathOrNull(file: string): string | null {
  try {
    return realpathSync(file);
  } catch {
    return null;
  }
}

/** Git promised the hidden files are absent; check it, because the promise is the whole point. */
async function assertNoHiddenFiles(root: string, policy: AccessPolicy): Promise<void> {
  if (policy.hidden.length === 0) return;
  const visit = async (rel: string): Promise<void> => {
    for (const entry of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (rel === '' && entry.name === '.git') continue;
      if (policy.classify(child) === 'hidden') throw new Error(`hidden path ${child} is present in the agent worktree`);
      if (entry.isDirectory()) await visit(child);
    }
  };
  await visit('');
}
