import { GitError, ProjectError } from '../errors.js';
import { shortSha, type Git } from './git.js';
import type { RefUpdate } from './ref-files.js';
import type { RunBranchWatch } from './run-branch-watch.js';

/**
 * The run's branch is the only ref crucible moves, and only from where it left it. Anything else
 * (the user switching branches during a run, an experiment that commits, stages or checks out)
 * must be noticed before the next git step that moves something, and must stop the run with
 * everything left as it is.
 */

/** Where crucible left the repository: the run branch checked out at `sha`, these paths staged. */
export interface RunBranchState {
  branch: string;
  sha: string;
  /** Paths (repository-relative) whose index entry differs from `sha`: the user's staged changes. */
  staged: readonly string[];
}

/** What git says now, for the run branch and HEAD; one git process when the branch exists. */
async function readHead(git: Git, branch: string): Promise<{ branchSha: string | null; headRef: string | null }> {
  // `--symbolic-full-name` applies to the arguments after it only: the branch's sha, then HEAD's ref
  // ("HEAD" itself when detached).
  const both = await git.run(['rev-parse', `refs/heads/${branch}`, '--symbolic-full-name', 'HEAD'], { allowFail: true });
  const [branchSha, headRef] = both.stdout.trim().split('\n');
  if (both.exitCode === 0 && branchSha && headRef) return { branchSha, headRef: headRef === 'HEAD' ? null : headRef };
  const head = await git.run(['symbolic-ref', '-q', 'HEAD'], { allowFail: true });
  return { branchSha: null, headRef: head.exitCode === 0 ? head.stdout.trim() : null };
}

/** Repository-relative paths whose index entry differs from commit `sha`. */
export async function stagedPaths(git: Git, sha: string): Promise<string[]> {
  const { stdout } = await git.run(['diff-index', '--cached', '--name-only', '-z', '--no-renames', sha]);
  return stdout.split('\0').filter(Boolean).sort();
}

/**
 * Throws a ProjectError saying what changed when HEAD is not the run branch, the run branch is not
 * at `expected.sha`, or the staged changes differ from `expected.staged`. `during` names the moment
 * ("during trial 3") for the message. Changes nothing.
 */
export async function verifyRunBranch(git: Git, expected: RunBranchState, during: string, watch?: RunBranchWatch): Promise<void> {
  if (watch?.holds(expected.sha, expected.staged)) return;
  const before = watch?.fingerprint() ?? null;
  const [{ branchSha, headRef }, staged] = await Promise.all([readHead(git, expected.branch), stagedPaths(git, expected.sha).catch(() => null)]);
  const ours = `refs/heads/${expected.branch}`;
  const untouched = 'crucible stopped without changing anything';
  if (branchSha === null) {
    throw new ProjectError(`the run's branch ${expected.branch} was deleted ${during}; ${untouched}`, {
      hints: [`Recreate it where crucible left it: git branch ${expected.branch} ${expected.sha}`],
    });
  }
  if (branchSha !== expected.sha) {
    const subject = await commitSubject(git, branchSha);
    throw new ProjectError(
      `the run's branch ${expected.branch} is at ${shortSha(branchSha)}${subject}, not at ${shortSha(expected.sha)} where crucible left it: a commit was made or the branch was moved ${during}; ${untouched}`,
      {
        hints: [
          `To go on from where crucible left it, with your files left as they are on disk: git switch ${expected.branch} && git reset --mixed ${expected.sha}; then run again.`,
          `To build on ${shortSha(branchSha)} instead, start a new run from it: git switch --detach ${shortSha(branchSha)} && crucible run --tag <new tag>.`,
        ],
      },
    );
  }
  if (headRef !== ours) {
    const where = headRef === null ? 'HEAD is detached' : `HEAD is on ${headRef.replace(/^refs\/heads\//, '')}`;
    throw new ProjectError(`${where}, not on the run's branch ${expected.branch}: something switched branches ${during}; ${untouched}`, {
      hints: [`Your branches are as they were. To go on: git switch ${expected.branch}, then run again.`],
    });
  }
  if (staged !== null && !sameList(staged, expected.staged)) {
    const added = staged.filter((p) => !expected.staged.includes(p));
    const removed = expected.staged.filter((p) => !staged.includes(p));
    const what = [added.length > 0 ? `now staged: ${list(added)}` : '', removed.length > 0 ? `no longer staged: ${list(removed)}` : ''].filter(Boolean).join('; ');
    throw new ProjectError(`the staged changes of the repository changed ${during} (${what}); ${untouched}`, {
      hints: ['Stage or unstage what you mean to (git status shows it), then run again: crucible keeps what is staged when a run starts staged.'],
    });
  }
  if (staged !== null) watch?.trust(before, expected.sha, expected.staged);
}

/** A tag to point at a commit in the same ref transaction as a branch move (a failed/ or node/ tag). */
export interface TagUpdate {
  name: string;
  sha: string;
}

/**
 * Moves the run branch from `from` to `to`, updating the index and the files that differ between
 * them, and nothing else. A two-way `read-tree` is what `git checkout` does: it refuses (changing
 * nothing) when a file it must update has local changes, and carries the user's staged changes
 * to other files forward (`reset --keep` would unstage them). The branch moves last, by a
 * compare-and-swap: a run killed in between leaves the branch at `from`, which recovery expects.
 * `tags` are set (replacing a tag of that name) in the branch's own ref transaction: one git
 * process instead of one more per tag, and the tags and the branch move together or not at all.
 */
export async function moveRunBranch(git: Git, branch: string, from: string, to: string, watch?: RunBranchWatch, tags: readonly TagUpdate[] = []): Promise<void> {
  if (from === to) {
    await setTags(git, tags, watch);
    return;
  }
  const staged = watch?.provenStaged(from) ?? null;
  watch?.forget();
  // Done in process when plain (index-checkout.ts); git does anything else, and refuses what it refuses.
  if (watch?.checkout?.move(from, to) !== true) await git.run(['read-tree', '-m', '-u', from, to]);
  try {
    const message = `crucible: ${shortSha(from)} -> ${shortSha(to)}`;
    const updates = [...tagUpdates(tags), { ref: `refs/heads/${branch}`, to, from }];
    if (watch?.refFiles?.tryUpdate(updates, message) === true) {
      // Written without a git process (ref-files.ts); anything unusual was left to git below.
    } else if (tags.length === 0) await git.run(['update-ref', '-m', message, `refs/heads/${branch}`, to, from]);
    else await git.run(['update-ref', '-m', message, '--stdin'], { input: refUpdates(tags, { ref: `refs/heads/${branch}`, to, from }) });
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    // The files already match `to`: put them back as `from` has them, so the branch and the
    // working tree agree again, and report the move that went wrong.
    await git.run(['read-tree', '-m', '-u', to, from], { allowFail: true });
    throw error;
  }
  watch?.moved(staged, to);
}

/** Points each tag at its commit, replacing tags of those names; one git process for them all. */
export async function setTags(git: Git, tags: readonly TagUpdate[], watch?: RunBranchWatch): Promise<void> {
  if (tags.length === 0 || watch?.refFiles?.tryUpdate(tagUpdates(tags), '') === true) return;
  await git.run(['update-ref', '--stdin'], { input: refUpdates(tags) });
}

function tagUpdates(tags: readonly TagUpdate[]): RefUpdate[] {
  return tags.map((tag) => ({ ref: `refs/tags/${tag.name}`, to: tag.sha }));
}

/** `git update-ref --stdin` input: every line is one transaction, applied whole or not at all. */
function refUpdates(tags: readonly TagUpdate[], branch?: { ref: string; to: string; from: string }): string {
  for (const tag of tags) {
    // The names are crucible's own (failed/<tag>/<n>), but a newline would be a second command.
    if (/[\s\0]/.test(tag.name) || !/^[0-9a-f]{40,64}$/.test(tag.sha)) throw new Error(`invalid tag update ${JSON.stringify(tag)}`);
  }
  const lines = tags.map((tag) => `update refs/tags/${tag.name} ${tag.sha}`);
  if (branch) lines.push(`update ${branch.ref} ${branch.to} ${branch.from}`);
  return `${lines.join('\n')}\n`;
}

async function commitSubject(git: Git, sha: string): Promise<string> {
  const result = await git.run(['log', '-1', '--format=%s', sha], { allowFail: true });
  const subject = result.stdout.trim();
  return result.exitCode === 0 && subject !== '' ? ` ("${subject.length > 60 ? `${subject.slice(0, 59)}…` : subject}")` : '';
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function list(paths: readonly string[]): string {
  return paths.length <= 3 ? paths.join(', ') : `${paths.slice(0, 3).join(', ')} and ${paths.length - 3} more`;
}
