import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitError } from '../../src/errors.js';
import { createGit, type Git } from '../../src/workspace/git.js';
import { RefFiles } from '../../src/workspace/ref-files.js';
import { moveRunBranch, setTags } from '../../src/workspace/run-branch.js';
import { RunBranchWatch } from '../../src/workspace/run-branch-watch.js';
import { git, makeRunBranchRepo, testGitEnv, type TestRepo } from '../helpers/git-repo.js';

/**
 * The run branch's moves and the failed/ tags are written without a git process when the
 * repository is a plain one (issue 12: each process costs ~10 ms here, two per discarded trial).
 * What git reads back must be exactly what `git update-ref` would have left: the refs, the
 * branch's and HEAD's reflogs, a clean fsck; and anything unusual must be left to git.
 */

let repo: TestRepo | undefined;
const extra: string[] = [];
afterEach(() => {
  repo?.cleanup();
  repo = undefined;
  for (const dir of extra.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setUp(): Promise<{ dir: string; git: Git; calls: string[][]; watch: RunBranchWatch; first: string; second: string }> {
  const r = makeRunBranchRepo();
  repo = r.repo;
  const watch = await RunBranchWatch.open(r.real, 'run');
  return { dir: r.dir, git: r.counted, calls: r.calls, watch, first: r.first, second: r.second };
}

const refOf = (dir: string, ref: string): string | null => {
  try {
    return git(dir, 'rev-parse', '--verify', '-q', ref);
  } catch {
    return null;
  }
};

describe('ref updates without a git process', () => {
  it('moves the branch and sets nested tags with only the read-tree, and git reads back what update-ref would have left', async () => {
    const { dir, git: g, calls, watch, first, second } = await setUp();
    expect(watch.refFiles).not.toBeNull();
    await moveRunBranch(g, 'run', second, first, watch, [{ name: 'failed/t/1', sha: second }]);
    expect(calls.map((args) => args[0])).toEqual(['read-tree']);
    expect(refOf(dir, 'refs/heads/run')).toBe(first);
    expect(refOf(dir, 'refs/tags/failed/t/1')).toBe(second);
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('one\n');
    // The branch's reflog and HEAD's (HEAD is on the branch) say who moved it, from where, and why.
    for (const log of ['run', 'HEAD']) {
      const top = git(dir, 'reflog', 'show', '-1', '--format=%H %gs %gn <%ge>', log);
      expect(top).toBe(`${first} crucible: ${second.slice(0, 7)} -> ${first.slice(0, 7)} Test <test@example.com>`);
    }
    const raw = readFileSync(path.join(dir, '.git', 'logs', 'refs', 'heads', 'run'), 'utf8').trim().split('\n').at(-1)!;
    expect(raw).toMatch(new RegExp(`^${second} ${first} Test <test@example.com> \\d{10} [+-]\\d{4}\\tcrucible: `));
    expect(git(dir, 'fsck', '--no-dangling', '--no-progress')).toBe('');
    expect(readdirSync(path.join(dir, '.git', 'refs', 'heads')).filter((f) => f.endsWith('.lock'))).toEqual([]);
    // The watch, told of the move, still proves the branch without asking git.
    calls.length = 0;
    await setTags(g, [{ name: 'node/t/2', sha: first }], watch);
    expect(calls).toEqual([]);
    expect(refOf(dir, 'refs/tags/node/t/2')).toBe(first);
  });

  it('moves the branch back and forth through two inodes of its file, and git reads every move, its reflog and a clean fsck', async () => {
    const { dir, git: g, watch, first, second } = await setUp();
    const branchFile = path.join(dir, '.git', 'refs', 'heads', 'run');
    const inodes = new Set<number>();
    let at = second;
    for (let n = 1; n <= 6; n++) {
      const to = at === second ? first : second;
      await moveRunBranch(g, 'run', at, to, watch);
      at = to;
      expect(refOf(dir, 'refs/heads/run')).toBe(at);
      if (n >= 2) inodes.add(statSync(branchFile).ino);
    }
    // No inode made or freed per move (decisions 83): the one displaced is the next lock.
    expect(inodes.size).toBe(2);
    expect(readdirSync(path.join(dir, '.git', 'crucible-spares'))).toHaveLength(1);
    expect(git(dir, 'reflog', 'show', '--format=%H', 'run').split('\n').slice(0, 6)).toEqual([second, first, second, first, second, first]);
    expect(git(dir, 'fsck', '--no-dangling', '--no-progress')).toBe('');
    expect(git(dir, 'for-each-ref', '--format=%(refname)')).not.toMatch(/spare/);
    // git packs the branch (gc does): the next move starts from packed-refs with a new file.
    git(dir, 'pack-refs', '--all');
    await moveRunBranch(g, 'run', at, at === second ? first : second, watch);
    expect(refOf(dir, 'refs/heads/run')).toBe(at === second ? first : second);
  });

  it('moves a branch that lives only in packed-refs, by compare-and-swap', async () => {
    const { dir, git: g, calls, watch, first, second } = await setUp();
    git(dir, 'pack-refs', '--all');
    expect(existsSync(path.join(dir, '.git', 'refs', 'heads', 'run'))).toBe(false);
    await moveRunBranch(g, 'run', second, first, watch);
    expect(calls.map((args) => args[0])).toEqual(['read-tree']);
    expect(refOf(dir, 'refs/heads/run')).toBe(first);
    expect(git(dir, 'fsck', '--no-dangling', '--no-progress')).toBe('');
  });

  it('reads packed-refs again when git rewrote it: a compare-and-swap never trusts an old copy', async () => {
    const { dir, watch, first, second } = await setUp();
    const refs = watch.refFiles!;
    git(dir, 'tag', 'failed/t/1', first);
    git(dir, 'pack-refs', '--all');
    // A new tag looks its name up in packed-refs (absent there: created); the file is now known.
    expect(refs.tryUpdate([{ ref: 'refs/tags/failed/t/2', to: first }], 'x')).toBe(true);
    // git moves the packed tag and packs again: the old copy says `first`, the file `second`.
    git(dir, 'tag', '-f', 'failed/t/1', second);
    git(dir, 'pack-refs', '--all');
    expect(existsSync(path.join(dir, '.git', 'refs', 'tags', 'failed', 't', '1'))).toBe(false);
    expect(refs.tryUpdate([{ ref: 'refs/tags/failed/t/1', to: first, from: first }], 'x')).toBe(false);
    expect(refOf(dir, 'refs/tags/failed/t/1')).toBe(second);
    expect(refs.tryUpdate([{ ref: 'refs/tags/failed/t/1', to: first, from: second }], 'x')).toBe(true);
    expect(refOf(dir, 'refs/tags/failed/t/1')).toBe(first);
  });

  it('finds a ref absent once packed-refs is gone, after it was read', async () => {
    const { dir, watch, first, second } = await setUp();
    const refs = watch.refFiles!;
    git(dir, 'tag', 'failed/t/1', first);
    git(dir, 'pack-refs', '--all');
    expect(refs.tryUpdate([{ ref: 'refs/tags/failed/t/2', to: first }], 'x')).toBe(true);
    // Its copy of packed-refs holds failed/t/1 at `first`; the file is then removed.
    rmSync(path.join(dir, '.git', 'packed-refs'));
    expect(refs.tryUpdate([{ ref: 'refs/tags/failed/t/1', to: second, from: first }], 'x')).toBe(false);
    expect(refs.tryUpdate([{ ref: 'refs/tags/failed/t/1', to: second }], 'x')).toBe(true);
    expect(refOf(dir, 'refs/tags/failed/t/1')).toBe(second);
  });

  it('leaves a branch someone else moved to git, which refuses the move; the files go back', async () => {
    const { dir, git: g, watch, first, second } = await setUp();
    git(dir, 'update-ref', 'refs/heads/run', first); // not where crucible left it
    git(dir, 'read-tree', '-m', '-u', second, first);
    const refs = watch.refFiles!;
    expect(refs.tryUpdate([{ ref: 'refs/heads/run', to: second, from: first.replace(/^./, (c) => (c === '0' ? '1' : '0')) }], 'x')).toBe(false);
    expect(refOf(dir, 'refs/heads/run')).toBe(first);
    // Through moveRunBranch: git gets the last word, with its own message.
    await expect(moveRunBranch(g, 'run', second, first, watch)).rejects.toBeInstanceOf(GitError);
    expect(refOf(dir, 'refs/heads/run')).toBe(first);
  });

  it('does not touch a lock another git holds, and changes nothing', async () => {
    const { dir, watch, first, second } = await setUp();
    const lock = path.join(dir, '.git', 'refs', 'heads', 'run.lock');
    writeFileSync(lock, 'someone else\n');
    expect(watch.refFiles!.tryUpdate([{ ref: 'refs/tags/failed/t/1', to: second }, { ref: 'refs/heads/run', to: first, from: second }], 'm')).toBe(false);
    expect(readFileSync(lock, 'utf8')).toBe('someone else\n');
    expect(refOf(dir, 'refs/heads/run')).toBe(second);
    expect(refOf(dir, 'refs/tags/failed/t/1')).toBeNull();
    expect(existsSync(path.join(dir, '.git', 'refs', 'tags', 'failed', 't', '1.lock'))).toBe(false);
  });

  it('writes nothing through a link that leads out of the repository', async () => {
    const { dir, watch, second } = await setUp();
    const outside = mkdtempSync(path.join(os.tmpdir(), 'crucible-outside-'));
    extra.push(outside);
    mkdirSync(path.join(dir, '.git', 'refs', 'tags'), { recursive: true });
    symlinkSync(outside, path.join(dir, '.git', 'refs', 'tags', 'failed'));
    expect(watch.refFiles!.tryUpdate([{ ref: 'refs/tags/failed/t/1', to: second }], '')).toBe(false);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('leaves a symbolic ref to git', async () => {
    const { dir, watch, first } = await setUp();
    git(dir, 'symbolic-ref', 'refs/heads/alias', 'refs/heads/main');
    expect(watch.refFiles!.tryUpdate([{ ref: 'refs/heads/alias', to: first }], '')).toBe(false);
    expect(git(dir, 'symbolic-ref', 'refs/heads/alias')).toBe('refs/heads/main');
  });

  it('is not used for a reftable repository or a commit date fixed by the environment', async () => {
    const { dir } = await setUp();
    const g = createGit(dir, { env: testGitEnv });
    process.env['GIT_COMMITTER_DATE'] = '2020-01-01T00:00:00Z';
    try {
      expect(await RefFiles.open(g)).toBeNull();
    } finally {
      delete process.env['GIT_COMMITTER_DATE'];
    }
    expect(await RefFiles.open(g)).not.toBeNull();
    mkdirSync(path.join(dir, '.git', 'reftable'));
    expect(await RefFiles.open(g)).toBeNull();
  });
});
