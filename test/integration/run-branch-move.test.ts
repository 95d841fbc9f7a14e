import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitError } from '../../src/errors.js';
import type { Git } from '../../src/workspace/git.js';
import { moveRunBranch, setTags } from '../../src/workspace/run-branch.js';
import { git, makeRunBranchRepo, type TestRepo } from '../helpers/git-repo.js';

/**
 * A discard moves the run branch back and tags the failed commit in one ref transaction (one git
 * process after the read-tree, where there were two). The two must still go together: a branch
 * that someone else moved refuses the whole transaction, tag included, and the files go back.
 */

let repo: TestRepo | undefined;
afterEach(() => {
  repo?.cleanup();
  repo = undefined;
});

function setUp(): { dir: string; git: Git; calls: () => string[]; first: string; second: string } {
  const r = makeRunBranchRepo();
  repo = r.repo;
  return { dir: r.dir, git: r.counted, calls: () => r.calls.map((args) => args[0] ?? ''), first: r.first, second: r.second };
}

const tagSha = (dir: string, name: string): string | null => {
  try {
    return git(dir, 'rev-parse', '--verify', '-q', `refs/tags/${name}`);
  } catch {
    return null;
  }
};

describe('moving the run branch with tags', () => {
  it('moves the branch, updates the files and sets the tags with two git processes', async () => {
    const { dir, git: g, calls, first, second } = setUp();
    await moveRunBranch(g, 'run', second, first, undefined, [{ name: 'failed/t/1', sha: second }, { name: 'node/t/1', sha: second }]);
    expect(git(dir, 'rev-parse', 'refs/heads/run')).toBe(first);
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('one\n');
    expect(tagSha(dir, 'failed/t/1')).toBe(second);
    expect(tagSha(dir, 'node/t/1')).toBe(second);
    expect(calls()).toEqual(['read-tree', 'update-ref']);
    // The branch's reflog says what crucible did, as before.
    expect(git(dir, 'reflog', '-1', '--format=%gs', 'refs/heads/run')).toMatch(/^crucible: [0-9a-f]{7} -> [0-9a-f]{7}$/);
  });

  it('replaces a tag of the same name, as git tag -f did', async () => {
    const { dir, git: g, first, second } = setUp();
    git(dir, 'tag', 'failed/t/1', first);
    await setTags(g, [{ name: 'failed/t/1', sha: second }]);
    expect(tagSha(dir, 'failed/t/1')).toBe(second);
  });

  it('sets neither the tag nor the branch when the branch was moved by someone else, and puts the files back', async () => {
    const { dir, git: g, first, second } = setUp();
    // Someone commits on the run branch after crucible last looked: crucible still believes it at `second`.
    writeFileSync(path.join(dir, 'b.txt'), 'theirs\n');
    git(dir, 'add', 'b.txt');
    git(dir, 'commit', '-q', '-m', 'theirs');
    const theirs = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'update-ref', 'refs/heads/run', second, theirs);
    // The compare-and-swap must fail: point the branch elsewhere between read-tree and update-ref.
    const racing: Git = {
      ...g,
      run: async (args, options) => {
        if (args[0] === 'update-ref') git(dir, 'update-ref', 'refs/heads/run', theirs, second);
        return g.run(args, options);
      },
    };
    await expect(moveRunBranch(racing, 'run', second, first, undefined, [{ name: 'failed/t/1', sha: second }])).rejects.toBeInstanceOf(GitError);
    expect(tagSha(dir, 'failed/t/1')).toBeNull();
    expect(git(dir, 'rev-parse', 'refs/heads/run')).toBe(theirs);
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('two\n');
  });

  it('refuses a tag name that would smuggle a second command into the transaction', async () => {
    const { dir, git: g, second } = setUp();
    await expect(setTags(g, [{ name: 'x\ndelete refs/heads/run', sha: second }])).rejects.toThrow(/invalid tag update/);
    expect(git(dir, 'rev-parse', 'refs/heads/run')).toBe(second);
  });
});
