import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProjectError } from '../../src/errors.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { openSlots, removeStaleSlots, type SlotWorktree } from '../../src/workspace/slot-worktree.js';
import { git, makeGitRepo, testGitEnv, writeFiles } from '../helpers/git-repo.js';

/**
 * Issue 8: experiment slots live inside the project (`.crucible/slots/<k>`), where an experiment
 * without the sandbox can plant anything. crucible must never write, reset, clean or delete
 * through a link planted at `.crucible`, `.crucible/slots` or in a slot, and git run in a slot
 * must not reach the project's repository. (Each test was run against the code without its
 * guard first, and failed.)
 */

const FILES = { 'train.py': 'lr = 0.1\n', 'evaluate.py': 'print("score: 1")\n', 'tests/case1.txt': 'one\n', '.gitignore': 'cache\n' };
const VICTIM = { '1/keep.txt': 'mine\n', 'keep.txt': 'mine\n', 'case1.txt': 'victim\n', 'hit.bin': 'victim\n' };
const policy = createAccessPolicy({ editable: ['train.py'], readonly: [], hidden: ['evaluate.py', 'tests/'] });

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const repo = makeGitRepo(FILES);
  cleanups.push(repo.cleanup);
  const victim = `${repo.dir}-victim`;
  cleanups.push(() => rmSync(victim, { recursive: true, force: true }));
  writeFiles(victim, VICTIM);
  const open = async (count = 2): Promise<SlotWorktree[]> => {
    const slots = await openSlots({ projectDir: repo.dir, count, commit: 'HEAD', shared: [], env: testGitEnv });
    cleanups.push(async () => {
      for (const slot of slots) await slot.remove().catch(() => undefined);
    });
    return slots;
  };
  return { dir: repo.dir, victim, open, commit: git(repo.dir, 'rev-parse', 'HEAD') };
}

function expectVictimIntact(victim: string): void {
  const files = (rel = ''): string[] =>
    readdirSync(path.join(victim, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(rel, e.name)) : [path.join(rel, e.name)]));
  expect(files().sort()).toEqual(Object.keys(VICTIM).sort());
  for (const [rel, content] of Object.entries(VICTIM)) expect(readFileSync(path.join(victim, rel), 'utf8'), rel).toBe(content);
}

const registrations = (dir: string): number => git(dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)?.length ?? 0;

describe('experiment slots under attack', () => {
  it('never opens, nor removes, slots through a link planted at .crucible/slots or at .crucible', async () => {
    const { dir, victim, open } = setup();
    mkdirSync(path.join(dir, '.crucible'));
    symlinkSync(victim, path.join(dir, '.crucible', 'slots'));
    await expect(open()).rejects.toThrow(ProjectError);
    await expect(removeStaleSlots(dir, testGitEnv)).rejects.toThrow(/\.crucible\/slots is a symbolic link/);
    rmSync(path.join(dir, '.crucible'), { recursive: true });
    symlinkSync(victim, path.join(dir, '.crucible'));
    await expect(open()).rejects.toThrow(/\.crucible is a symbolic link/);
    expectVictimIntact(victim);
    expect(registrations(dir)).toBe(1);
  });

  it('a slot replaced by a link: checkout and the protected-file check refuse, remove() drops the link only', async () => {
    const { dir, victim, open, commit } = setup();
    const [slot] = await open(1);
    rmSync(slot!.dir, { recursive: true });
    symlinkSync(victim, slot!.dir);
    await expect(slot!.checkout(commit)).rejects.toThrow(/no longer the folder crucible made/);
    await expect(slot!.changedProtected(policy)).rejects.toThrow(ProjectError);
    await slot!.remove();
    expectVictimIntact(victim);
    expect(existsSync(slot!.dir)).toBe(false);
    expect(registrations(dir)).toBe(1);
  });

  it('.crucible/slots replaced by a link after the slots opened: nothing is reset, cleaned or deleted there', async () => {
    const { dir, victim, open, commit } = setup();
    const [slot] = await open(1);
    renameSync(path.join(dir, '.crucible', 'slots'), `${dir}-moved-slots`);
    cleanups.push(() => rmSync(`${dir}-moved-slots`, { recursive: true, force: true }));
    symlinkSync(victim, path.join(dir, '.crucible', 'slots'));
    await expect(slot!.checkout(commit)).rejects.toThrow(ProjectError);
    await expect(slot!.remove()).rejects.toThrow(ProjectError);
    await expect(removeStaleSlots(dir, testGitEnv)).rejects.toThrow(ProjectError);
    expectVictimIntact(victim);
  });

  it('a registration edited to name another folder is not followed by removeStaleSlots', async () => {
    const { dir, victim, open } = setup();
    await open(1);
    const record = path.join(dir, '.git', 'worktrees', '1', 'gitdir');
    writeFileSync(record, `${path.join(victim, '1')}/.git\n`);
    await removeStaleSlots(dir, testGitEnv);
    expectVictimIntact(victim);
  });

  it('a tracked folder of the slot replaced by a link: checkout writes the commit into the slot, not through the link', async () => {
    const { victim, open, commit } = setup();
    const [slot] = await open(1);
    rmSync(path.join(slot!.dir, 'tests'), { recursive: true });
    symlinkSync(victim, path.join(slot!.dir, 'tests'));
    await slot!.checkout(commit);
    expectVictimIntact(victim);
    expect(readFileSync(path.join(slot!.dir, 'tests', 'case1.txt'), 'utf8')).toBe('one\n');
  });

  it('a new protected file whose folder became a link before the next checkout is not deleted through it', async () => {
    const { victim, open, commit } = setup();
    const [slot] = await open(1);
    writeFiles(slot!.dir, { 'tests/cache/hit.bin': 'planted\n' });
    expect(await slot!.changedProtected(policy)).toEqual(['tests/cache/hit.bin']);
    // A process the experiment left behind swaps the (ignored) folder for a link meanwhile.
    rmSync(path.join(slot!.dir, 'tests', 'cache'), { recursive: true });
    symlinkSync(victim, path.join(slot!.dir, 'tests', 'cache'));
    await slot!.checkout(commit);
    expectVictimIntact(victim);
  });

  it("git run by an experiment in a slot reaches no repository: the project's branches and HEAD stay", async () => {
    const { dir, open } = setup();
    const [slot] = await open(1);
    const inSlot = (...args: string[]): string => {
      try {
        return execFileSync('git', args, { cwd: slot!.dir, env: testGitEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        return `failed: ${String((error as { stderr?: string }).stderr)}`;
      }
    };
    expect(inSlot('switch', '-c', 'planted')).toMatch(/^failed: fatal: not a git repository/);
    expect(inSlot('stash', '-u')).toMatch(/^failed/);
    expect(git(dir, 'branch', '--list', 'planted')).toBe('');
    expect(git(dir, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
  });

  it("a .git planted in a slot to check out a branch: the next checkout leaves that branch where it was", async () => {
    const { dir, open } = setup();
    git(dir, 'branch', 'side');
    const side = git(dir, 'rev-parse', 'side');
    writeFiles(dir, { 'train.py': 'lr = 0.5\n' });
    git(dir, 'commit', '-q', '-am', 'next');
    const next = git(dir, 'rev-parse', 'HEAD');
    const [slot] = await open(1);
    writeFileSync(path.join(slot!.dir, '.git'), `gitdir: ${path.join(dir, '.git', 'worktrees', '1')}\n`);
    execFileSync('git', ['checkout', '-q', 'side'], { cwd: slot!.dir, env: testGitEnv, stdio: 'ignore' });
    await slot!.checkout(next);
    expect(git(dir, 'rev-parse', 'side')).toBe(side);
    expect(readFileSync(path.join(slot!.dir, 'train.py'), 'utf8')).toBe('lr = 0.5\n');
    expect(readFileSync(path.join(slot!.dir, '.git'), 'utf8')).toBe('gitdir: /dev/null\n');
  });
});
