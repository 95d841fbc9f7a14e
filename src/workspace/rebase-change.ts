import type { Git } from './git.js';

/**
 * Puts the change that `sha` made on top of `onto`: a three-way merge of the trees (merge base:
 * where `sha` started, an ancestor of `onto` on the run's chain) written as a new commit whose
 * only parent is `onto`, with `sha`'s message. Nothing is checked out: no worktree, no index, no
 * branch is touched, so the project and every slot stay as they are. Returns the new commit, or
 * null when the change conflicts with what `onto` changed (the trial is then stale).
 */
export async function rebaseChange(git: Git, sha: string, onto: string): Promise<string | null> {
  const merged = await git.run(['merge-tree', '--write-tree', '--no-messages', onto, sha], { allowFail: true });
  // 1 is a conflict; anything else (a missing object, an old git) is an error worth its message.
  if (merged.exitCode === 1) return null;
  if (merged.exitCode !== 0) throw new Error(`git merge-tree failed: ${merged.stderr.trim().split('\n')[0] ?? ''}`);
  const tree = merged.stdout.trim().split('\n')[0] ?? '';
  const message = (await git.run(['log', '-1', '--format=%B', sha])).stdout;
  const commit = await git.run(['commit-tree', tree, '-p', onto, '-F', '-'], { input: message, env: await git.identityEnv() });
  return commit.stdout.trim();
}
