import { statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Git } from '../../src/workspace/git.js';
import { moveRunBranch, verifyRunBranch } from '../../src/workspace/run-branch.js';
import { RunBranchWatch } from '../../src/workspace/run-branch-watch.js';
import { git, makeRunBranchRepo, type TestRepo } from '../helpers/git-repo.js';

/**
 * The run-branch guard skips git while HEAD, the branch and the index are as git last found them.
 * Skipping must never let a change through: every way of changing what the guard checks (a
 * commit, a moved branch, a switched HEAD, a staged file, an index rewritten in place with its
 * old mtime) is still caught, and the guard only stops asking git while nothing changed.
 */

let repo: TestRepo | undefined;
afterEach(() => {
  repo?.cleanup();
  repo = undefined;
});

/** A repository on branch `run` with two commits, and a Git that counts its processes. */
async function setUp(): Promise<{ dir: string; git: Git; calls: () => number; first: string; second: string; watch: RunBranchWatch }> {
  const r = makeRunBranchRepo();
  repo = r.repo;
  const watch = await RunBranchWatch.open(r.real, 'run');
  return { dir: r.dir, git: r.counted, calls: () => r.calls.length, first: r.first, second: r.second, watch };
}

const expected = (sha: string) => ({ branch: 'run', sha, staged: [] as string[] });

describe('the run-branch watch', () => {
  it('asks git again only when something changed, and crucible\'s own move keeps it proven', async () => {
    const s = await setUp();
    await verifyRunBranch(s.git, expected(s.second), 'now', s.watch);
    const afterFirst = s.calls();
    expect(afterFirst).toBeGreaterThan(0);
    await verifyRunBranch(s.git, expected(s.second), 'now', s.watch);
    expect(s.calls()).toBe(afterFirst);
    await moveRunBranch(s.git, 'run', s.second, s.first, s.watch);
    const afterMove = s.calls();
    await verifyRunBranch(s.git, expected(s.first), 'now', s.watch);
    expect(s.calls()).toBe(afterMove);
    // Another sha than the one proven is never taken on trust.
    await expect(verifyRunBranch(s.git, expected(s.second), 'now', s.watch)).rejects.toThrow(/is at .* not at/);
  });

  const changes: [string, (dir: string, s: { first: string }) => void, RegExp][] = [
    ['a commit on the run branch', (dir) => (writeFileSync(path.join(dir, 'a.txt'), 'three\n'), git(dir, 'commit', '-q', '-am', 'x')), /a commit was made or the branch was moved/],
    ['the branch moved by update-ref', (dir, s) => git(dir, 'update-ref', 'refs/heads/run', s.first), /a commit was made or the branch was moved/],
    ['HEAD switched to main', (dir) => git(dir, 'symbolic-ref', 'HEAD', 'refs/heads/main'), /HEAD is on main/],
    ['a file staged', (dir) => (writeFileSync(path.join(dir, 'new.txt'), 'x\n'), git(dir, 'add', 'new.txt')), /now staged: new.txt/],
    [
      'the index replaced by git, its old mtime put back',
      (dir) => {
        const index = path.join(dir, '.git', 'index');
        const before = statSync(index);
        writeFileSync(path.join(dir, 'new.txt'), 'x\n');
        // The new index (git renames it into place) gets the old mtime back: the inode and ctime still tell.
        git(dir, 'add', 'new.txt');
        utimesSync(index, before.atime, before.mtime);
      },
      /now staged: new.txt/,
    ],
  ];
  for (const [what, change, message] of changes) {
    it(`catches ${what} after a proven check`, async () => {
      const s = await setUp();
      await verifyRunBranch(s.git, expected(s.second), 'now', s.watch);
      change(s.dir, s);
      await expect(verifyRunBranch(s.git, expected(s.second), 'now', s.watch)).rejects.toThrow(message);
    });
  }

  it('a change made before crucible\'s own move is not laundered by it', async () => {
    const s = await setUp();
    await verifyRunBranch(s.git, expected(s.second), 'now', s.watch);
    writeFileSync(path.join(s.dir, 'new.txt'), 'x\n');
    git(s.dir, 'add', 'new.txt');
    // read-tree carries the staged file forward; the watch must not trust what it did not prove.
    await moveRunBranch(s.git, 'run', s.second, s.first, s.watch);
    await expect(verifyRunBranch(s.git, expected(s.first), 'now', s.watch)).rejects.toThrow(/now staged: new.txt/);
  });

  it('packed refs (no loose ref file): falls back to git, which still says all is well', async () => {
    const s = await setUp();
    git(s.dir, 'pack-refs', '--all');
    await verifyRunBranch(s.git, expected(s.second), 'now', s.watch);
    const before = s.calls();
    await verifyRunBranch(s.git, expected(s.second), 'now', s.watch);
    expect(s.calls()).toBeGreaterThan(before);
  });
});
