import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { openAgentWorktree } from '../../src/workspace/agent-worktree.js';
import { git, makeGitRepo, testGitEnv, writeFiles } from '../helpers/git-repo.js';

/**
 * Issue 7, class 4: the agent worktree's folder. Another user of the machine can plant anything
 * in a shared temp folder; crucible must neither follow nor delete what it did not create.
 */

const policy = createAccessPolicy({ editable: ['train.py'], readonly: [], hidden: ['evaluate.py'] });
const FILES = { 'train.py': 'lr = 0.1\n', 'evaluate.py': 'print("score: 1")\n' };
const VICTIM = { 'run1/.git': 'gitdir: /nowhere\n', 'run1/precious.txt': 'mine\n', 'precious.txt': 'mine\n' };

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const repo = makeGitRepo(FILES);
  cleanups.push(repo.cleanup);
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-hostile-wt-')));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const parent = path.join(root, 'worktrees');
  mkdirSync(parent);
  const victim = path.join(root, 'victim');
  writeFiles(victim, VICTIM);
  const env = { ...testGitEnv, CRUCIBLE_WORKTREE_DIR: parent };
  const open = () => openAgentWorktree({ projectDir: repo.dir, tag: 'run1', commit: 'HEAD', policy, env });
  return { repo, root, parent, victim, env, open };
}

function expectVictimIntact(victim: string): void {
  for (const [rel, content] of Object.entries(VICTIM)) expect(readFileSync(path.join(victim, rel), 'utf8'), rel).toBe(content);
}

const registrations = (dir: string): number => git(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)?.length ?? 0;

describe('the agent worktree folder', () => {
  it('never follows nor deletes a symlink or a folder planted where a predictable scheme would put it', async () => {
    const { repo, parent, victim, open } = setup();
    // The names an attacker can compute: the former scheme (<project>-<hash of its path>) and
    // names shaped like crucible's own.
    const hash = createHash('sha256').update(repo.dir).digest('hex').slice(0, 12);
    const planted = [`${path.basename(repo.dir)}-${hash}`, 'crucible-worktrees', `crucible-${path.basename(repo.dir)}-aaaaaa`];
    for (const name of planted) symlinkSync(victim, path.join(parent, name));
    writeFiles(path.join(parent, 'crucible-planted'), { '.crucible-worktree': 'forged\n', 'run1/.git': 'gitdir: /nowhere\n', 'run1/x': 'x\n' });

    const wt = await open();
    expect(realpathSync(wt.root).startsWith(victim)).toBe(false);
    await wt.remove();
    const again = await open();
    await again.remove();

    expectVictimIntact(victim);
    for (const name of planted) expect(readlinkSync(path.join(parent, name))).toBe(victim);
    expect(readFileSync(path.join(parent, 'crucible-planted', 'run1', 'x'), 'utf8')).toBe('x\n');
    expect(readdirSync(parent).sort()).toEqual([...planted, 'crucible-planted'].sort());
    expect(registrations(repo.dir)).toBe(1);
  });

  it('is a folder of its own, private (owner only, 0700), that the next run cannot compute in advance', async () => {
    const { parent, open } = setup();
    const first = await open();
    const folder = path.dirname(first.root);
    expect(path.dirname(folder)).toBe(realpathSync(parent));
    const info = statSync(folder);
    expect(info.mode & 0o777).toBe(0o700);
    expect(info.uid).toBe(process.getuid?.());
    await first.remove();
    expect(existsSync(folder)).toBe(false);
    const second = await open();
    expect(path.dirname(second.root)).not.toBe(folder);
    await second.remove();
  });

  it('deletes nothing when its folder was swapped for a symlink to someone else\'s', async () => {
    const { repo, root, victim, open } = setup();
    const wt = await open();
    // The folder holding the worktree (whatever its name) now leads to the victim.
    const folder = path.dirname(wt.root);
    renameSync(folder, path.join(root, 'moved-away'));
    symlinkSync(victim, folder);

    await wt.remove();
    expectVictimIntact(victim);
    expect(lstatSync(folder).isSymbolicLink()).toBe(true);
    // The next run meets the same registration and the same symlink.
    const next = await open();
    await next.remove();
    expectVictimIntact(victim);
    expect(lstatSync(folder).isSymbolicLink()).toBe(true);
    // The project's own worktree and the one crucible refused to touch; its own are gone.
    expect(registrations(repo.dir)).toBe(2);
  });
});

describe('restoring read-only copies in the agent worktree', () => {
  it('deletes nothing outside the worktree when the agent swapped a folder of copies for a symlink', async () => {
    const { repo, root, victim } = setup();
    writeFiles(repo.dir, { '.gitignore': 'data\n', 'data/train.csv': '1,2\n' });
    git(repo.dir, 'add', '.gitignore');
    git(repo.dir, 'commit', '-qm', 'ignore data');
    writeFiles(victim, { 'train.csv': 'the user\'s own\n' });
    const readonly = createAccessPolicy({ editable: ['train.py'], readonly: ['data/'], hidden: ['evaluate.py'] });
    const wt = await openAgentWorktree({ projectDir: repo.dir, tag: 'run1', commit: 'HEAD', policy: readonly, baseDir: path.join(root, 'wt'), env: testGitEnv });
    cleanups.push(() => wt.remove());
    expect(readFileSync(path.join(wt.root, 'data', 'train.csv'), 'utf8')).toBe('1,2\n');

    rmSync(path.join(wt.root, 'data'), { recursive: true });
    symlinkSync(victim, path.join(wt.root, 'data'));
    expect((await wt.changes()).map((c) => c.path)).toContain('data/train.csv');
    await wt.reset(git(repo.dir, 'rev-parse', 'HEAD'));

    expect(readFileSync(path.join(victim, 'train.csv'), 'utf8')).toBe('the user\'s own\n');
    expectVictimIntact(victim);
    // The copy is back, in a real folder of the worktree.
    expect(lstatSync(path.join(wt.root, 'data')).isDirectory()).toBe(true);
    expect(readFileSync(path.join(wt.root, 'data', 'train.csv'), 'utf8')).toBe('1,2\n');
    expect(await wt.changes()).toEqual([]);
  });
});

describe('resetting the agent worktree', () => {
  it('cleans nothing through a link the agent left in place of its workspace', async () => {
    const { repo, root, victim } = setup();
    const wt = await openAgentWorktree({ projectDir: repo.dir, tag: 'run1', commit: 'HEAD', policy, baseDir: path.join(root, 'wt'), env: testGitEnv });
    cleanups.push(() => wt.remove());
    // A shell agent moves its workspace away and leaves a link to someone else's folder.
    renameSync(wt.root, path.join(root, 'moved'));
    symlinkSync(victim, wt.root);
    await expect(wt.reset(git(repo.dir, 'rev-parse', 'HEAD'))).rejects.toThrow(/agent workspace .* is no longer/);
    expectVictimIntact(victim);
    expect(readdirSync(victim).sort()).toEqual(['precious.txt', 'run1']);
  });
});
