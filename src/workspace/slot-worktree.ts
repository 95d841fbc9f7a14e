import { lstat, mkdir, readFile, readlink, realpath, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { ProjectError } from '../errors.js';
import { normalizeRelative, type AccessPolicy } from './access-policy.js';
import { createGit, type Git } from './git.js';
import { repoLayout } from './project-git.js';
import { excludeSlots, removeSlotFolder, removeSlots, slotsRoot, writeDeadEnd } from './slot-location.js';
import { sharedLinks, type SharedLink } from './slot-shared.js';
import { literalPattern } from './sparse-patterns.js';
import { registeredGitDir } from './worktree-location.js';
import { parseStatus } from './worktree-change.js';

/**
 * Room for one experiment when several run at once: a full worktree of the project's repository
 * at `<project>/.crucible/slots/<k>/` (hidden files present: the experiment needs its harness),
 * with the untracked things every experiment needs (`files.shared`) linked in from the project.
 * Its `.git` leads nowhere (see writeDeadEnd): git run by an experiment in a slot does not reach
 * the project's repository; crucible runs git there with explicit --git-dir and --work-tree.
 */
export interface SlotWorktree {
  /** 1..N. */
  readonly index: number;
  /** The project folder's counterpart in the slot (the slot's top plus the project's path in its repository); real path. */
  readonly dir: string;
  /**
   * Makes the slot hold exactly `commit` (a sha; tracked files, hidden ones included), removing what the
   * previous experiment left that git does not ignore, and the new protected files
   * changedProtected() reported (ignored ones included). Shared links stay (and are put back when
   * an experiment removed or replaced one). Throws ProjectError, touching nothing, when the slot
   * is no longer the folder crucible made (moved, or replaced by a link).
   */
  checkout(commit: string): Promise<void>;
  /**
   * Project-relative protected (hidden or read-only per `policy`) paths that differ in the slot
   * from its checked-out commit: modified, deleted, or new files (ignored ones included) in their
   * folders. `ignore`: volatile files the unmodified harness rewrites. Call it after every
   * experiment: the new files it reports are removed by the next checkout().
   */
  changedProtected(policy: AccessPolicy, ignore?: readonly string[]): Promise<string[]>;
  /** Deletes the slot and its registration; throws ProjectError when the folder is no longer crucible's (left as it is). */
  remove(): Promise<void>;
}

export interface OpenSlotsOptions {
  projectDir: string;
  count: number;
  /** What every slot holds at first (a sha or anything git resolves to a commit). */
  commit: string;
  /** files.shared: project-relative paths linked into every slot; missing ones are skipped. */
  shared: readonly string[];
  /** Environment for git (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Opens `count` slots holding `commit`, after removing every slot a killed run left. Refuses
 * (ConfigError) a files.shared entry outside the project or holding files git tracks, and
 * (ProjectError) anything in the way that is not crucible's.
 */
export async function openSlots(opts: OpenSlotsOptions): Promise<SlotWorktree[]> {
  const projectDir = await realpath(opts.projectDir);
  const layout = await repoLayout(projectDir, { env: opts.env });
  const projectGit = createGit(layout.top, { env: opts.env });
  const commit = (await projectGit.run(['rev-parse', '--verify', '--end-of-options', `${opts.commit}^{commit}`])).stdout.trim();
  const shared = await sharedLinks(projectDir, projectGit, layout.prefix, commit, opts.shared);
  const root = (await slotsRoot(projectDir, true))!;
  await excludeSlots(layout.commonDir, layout.prefix);
  await removeSlots(projectGit, layout.commonDir, root);
  // One registration at a time: git 2.39's `worktree add` run side by side can read another's
  // half-written record ("failed to read .git/worktrees/<n>/commondir"); seen 1 in 80. The
  // checkouts, each in its own folder, run side by side.
  const registered: PromiseSettledResult<GitSlot>[] = [];
  for (let k = 0; k < opts.count; k++) {
    try {
      registered.push({ status: 'fulfilled', value: await addSlot({ index: k + 1, root, projectDir, projectGit, commonDir: layout.commonDir, prefix: layout.prefix, commit, shared, env: opts.env }) });
    } catch (reason) {
      registered.push({ status: 'rejected', reason });
      break;
    }
  }
  const added = await Promise.allSettled(
    registered.map(async (result) => {
      if (result.status === 'rejected') throw result.reason;
      const slot = result.value;
      await slot.checkout(commit).catch(async (error: unknown) => {
        await slot.remove().catch(() => undefined);
        throw error;
      });
      return slot;
    }),
  );
  const failed = added.find((result) => result.status === 'rejected');
  if (failed) {
    for (const result of added) if (result.status === 'fulfilled') await result.value.remove().catch(() => undefined);
    // A slot whose registration was made but not its checkout (or the reverse) is found again by path.
    await removeSlots(projectGit, layout.commonDir, root).catch(() => undefined);
    throw failed.reason;
  }
  return added.map((result) => (result as PromiseFulfilledResult<GitSlot>).value);
}

/** Removes every slot a killed run left (registered worktrees under .crucible/slots/). */
export async function removeStaleSlots(projectDir: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const real = await realpath(projectDir);
  const layout = await repoLayout(real, { env });
  const root = await slotsRoot(real, false);
  await removeSlots(createGit(layout.top, { env }), layout.commonDir, root ?? path.join(real, '.crucible', 'slots'));
}

export interface AddSlotInput {
  index: number;
  root: string;
  projectDir: string;
  projectGit: Git;
  commonDir: string;
  prefix: string;
  commit: string;
  shared: readonly SharedLink[];
  env: NodeJS.ProcessEnv | undefined;
}

async function addSlot(input: AddSlotInput): Promise<GitSlot> {
  const top = path.join(input.root, String(input.index));
  if (await lstat(top).catch(() => null)) {
    throw new ProjectError(`${path.relative(input.projectDir, top)} is in the way of experiment slot ${input.index}: it is not a slot of this repository (a copy from elsewhere?); left as it is`, {
      hints: ['Remove it (crucible makes its slots itself), then run again.'],
    });
  }
  // Locked as it is made, so that no `git worktree prune` (by the user, or git gc) takes it while
  // it is in use; the reason says whose it is in `git worktree list`.
  await input.projectGit.run(['worktree', 'add', '-q', '--detach', '--no-checkout', '--lock', '--reason', `crucible experiment slot ${input.index}`, top, input.commit]);
  const gitDir = await registeredGitDir(top, input.commonDir);
  if (!gitDir) throw new Error(`git worktree add did not register ${top}`);
  await writeDeadEnd(top);
  return new GitSlot({ ...input, top, gitDir, git: slotGit(top, gitDir, input.env) });
}

/** git for the slot at `top`, named explicitly: the slot's own `.git` leads nowhere. */
export function slotGit(top: string, gitDir: string, env: NodeJS.ProcessEnv | undefined): Git {
  return createGit(top, {
    env,
    // A repository set up for sparse checkouts would leave files out; experiments need them all.
    config: ['core.sparseCheckout=false'],
    globalArgs: [`--git-dir=${gitDir}`, `--work-tree=${top}`],
  });
}

export class GitSlot implements SlotWorktree {
  readonly index: number;
  readonly dir: string;
  private readonly top: string;
  private readonly root: string;
  private readonly gitDir: string;
  private readonly git: Git;
  private readonly projectGit: Git;
  private readonly prefix: string;
  private readonly shared: readonly SharedLink[];
  /** New protected files changedProtected() reported, top-relative: removed by the next checkout. */
  private readonly leftovers = new Set<string>();
  /** Nothing checked out yet: nothing to clean (one git process less per slot when a run opens). */
  private fresh = true;

  /** `fresh: false`: a slot a killed run left, whose last experiment's leftovers the next checkout cleans. */
  constructor(input: AddSlotInput & { top: string; gitDir: string; git: Git; fresh?: boolean }) {
    this.fresh = input.fresh ?? true;
    this.index = input.index;
    this.top = input.top;
    this.root = input.root;
    this.prefix = input.prefix;
    this.dir = input.prefix === '' ? input.top : path.join(input.top, input.prefix);
    this.gitDir = input.gitDir;
    this.git = input.git;
    this.projectGit = input.projectGit;
    this.shared = input.shared;
  }

  async checkout(commit: string): Promise<void> {
    await this.assertIntact();
    // An experiment that planted a `.git` and checked out a branch must not have it moved by the reset.
    if ((await readFile(path.join(this.gitDir, 'HEAD'), 'utf8')).startsWith('ref:')) await this.git.run(['update-ref', '--no-deref', 'HEAD', commit]);
    await this.git.run(['reset', '-q', '--hard', commit]);
    if (!this.fresh) await this.git.run(['clean', '-ffdq', ...this.shared.flatMap((link) => ['-e', literalPattern(this.topRelative(link.rel))])]);
    this.fresh = false;
    await this.removeLeftovers();
    await this.linkShared();
    await writeDeadEnd(this.top);
  }

  async changedProtected(policy: AccessPolicy, ignore: readonly string[] = []): Promise<string[]> {
    const scope = protectedScope(policy);
    if (scope === null) return [];
    await this.assertIntact();
    const pathspecs = scope.includes('') ? [this.prefix === '' ? '.' : this.prefix] : scope.map((rel) => this.topRelative(rel));
    const { stdout } = await this.git.run(['--literal-pathspecs', 'status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=traditional', '--no-renames', '--', ...pathspecs]);
    const skipped = new Set(ignore);
    const changed = new Set<string>();
    for (const entry of parseStatus(stdout)) {
      const topPath = entry.path.replace(/\/$/, '');
      const rel = this.prefix === '' ? topPath : path.posix.relative(this.prefix, topPath);
      if (rel.startsWith('../') || skipped.has(rel) || this.shared.some((link) => rel === link.rel || rel.startsWith(`${link.rel}/`))) continue;
      const access = policy.classify(rel);
      if (access !== 'hidden' && access !== 'readonly') continue;
      changed.add(rel);
      if (entry.x === '?' || entry.x === '!') this.leftovers.add(topPath);
    }
    return [...changed].sort();
  }

  async remove(): Promise<void> {
    if (!(await removeSlotFolder(this.projectGit, this.root, this.top))) {
      throw new ProjectError(`experiment slot ${this.top} is no longer the folder crucible made (moved, or replaced); left as it is`);
    }
  }

  /** The slot's top must still be the real folder crucible made: git would otherwise reset and clean wherever a link points. */
  private async assertIntact(): Promise<void> {
    if ((await realpath(this.top).catch(() => null)) !== this.top) {
      throw new ProjectError(`experiment slot ${this.top} is no longer the folder crucible made (moved, or replaced by a link); left as it is`);
    }
  }

  /** Deletes the new protected files reported since the last checkout; never through a link. */
  private async removeLeftovers(): Promise<void> {
    for (const topPath of this.leftovers) {
      const full = path.join(this.top, topPath);
      const parent = await realpath(path.dirname(full)).catch(() => null);
      if (parent === null || (parent !== this.top && !parent.startsWith(`${this.top}${path.sep}`))) continue;
      await rm(path.join(parent, path.basename(full)), { recursive: true, force: true });
    }
    this.leftovers.clear();
  }

  /** Each shared entry a link to the project's, whatever the last experiment did to it. */
  private async linkShared(): Promise<void> {
    for (const link of this.shared) {
      const at = path.join(this.dir, link.rel);
      // Relative, so that the slot works wherever the project is seen from (a compute node may
      // mount the shared file system elsewhere).
      const target = path.relative(path.dirname(at), link.source);
      if (!(await this.makeRealParents(path.dirname(link.rel)))) continue;
      const info = await lstat(at).catch(() => null);
      if (info?.isSymbolicLink() && (await readlink(at)) === target) continue;
      // What stands there now is an experiment's (git tracks nothing there: checked at open, and
      // an agent's commit cannot add such files unless they are editable).
      if (info) {
        if (await this.tracks(link.rel)) continue;
        await rm(at, { recursive: true, force: true });
      }
      await symlink(target, at);
    }
  }

  /** Makes the folders of `rel` (project-relative) in the slot; false when one of them is a link or a file. */
  private async makeRealParents(rel: string): Promise<boolean> {
    let dir = this.dir;
    for (const name of rel.split('/').filter((part) => part !== '.' && part !== '')) {
      dir = path.join(dir, name);
      const info = await lstat(dir).catch(() => null);
      if (info?.isDirectory()) continue;
      if (info) return false;
      await mkdir(dir);
    }
    return true;
  }

  private async tracks(rel: string): Promise<boolean> {
    return (await this.git.run(['--literal-pathspecs', 'ls-files', '--', this.topRelative(rel)])).stdout.trim() !== '';
  }

  private topRelative(rel: string): string {
    return this.prefix === '' ? rel : `${this.prefix}/${rel}`;
  }
}

/**
 * The project-relative folders (or files) below which a protected path can be: each hidden or
 * read-only entry up to its first glob ("" for the whole project). null when nothing is protected.
 */
function protectedScope(policy: AccessPolicy): string[] | null {
  const entries = [...policy.hidden, ...policy.readonly];
  if (entries.length === 0) return null;
  const scope = new Set<string>();
  for (const entry of entries) {
    const parts = normalizeRelative(entry).split('/');
    if (parts.includes('..')) continue;
    const firstGlob = parts.findIndex((part) => /[*?[]/.test(part));
    scope.add(firstGlob === -1 ? parts.join('/') : parts.slice(0, firstGlob).join('/'));
  }
  return scope.size === 0 ? null : [...scope];
}
