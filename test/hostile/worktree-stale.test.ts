import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git, writeFiles } from '../helpers/git-repo.js';
import {
  agentRecord,
  checkCliBuilt,
  createTinyProject,
  findInconsistencies,
  killLeftovers,
  planAgent,
  readFilesOf,
  rowOf,
  runCli,
  USER_FILES,
  type TinyProject,
} from '../helpers/project.js';

/**
 * Issue 7, class 4, after a crash: a SIGKILLed run leaves its agent worktree and the worktree's
 * registration behind. The next run removes exactly that, in a folder next to ones it did not make.
 */

let project: TinyProject | undefined;
beforeAll(() => checkCliBuilt());
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

const registered = (dir: string): string[] =>
  git(dir, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).map((l) => l.slice('worktree '.length));

describe('a run killed with its agent worktree open', () => {
  it('is cleaned up by the next run: its worktree and registration go, nothing else does', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { x: 40 }, 3: { x: 60 } });
    const worktrees = p.env['CRUCIBLE_WORKTREE_DIR']!;
    const killed = await runCli(p, ['run', '--tag', 't', '-n', '3'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'agent.done:1' } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const staleRoot = agentRecord(p, 1)!.cwd;
    expect(existsSync(staleRoot)).toBe(true);
    expect(registered(p.dir)).toContain(staleRoot);

    // Folders crucible did not make, next to the one it did: shaped like its own, and a link.
    const victim = path.join(p.root, 'victim');
    writeFiles(victim, { 't/.git': 'gitdir: /nowhere\n', 't/precious.txt': 'mine\n' });
    const decoy = path.join(worktrees, 'crucible-proj-decoy1');
    writeFiles(decoy, { '.crucible-worktree': 'forged\n', 't/.git': 'gitdir: /nowhere\n', 't/precious.txt': 'mine\n' });
    mkdirSync(path.join(worktrees, 'crucible-proj-empty'));
    symlinkSync(victim, path.join(worktrees, 'crucible-proj-link'));
    const before = readFilesOf(p.dir, Object.keys(USER_FILES));

    const resumed = await runCli(p, ['run', '--tag', 't', '-n', '2']);
    expect(resumed.code, resumed.stderr).toBe(0);

    // The resumed run worked in a new folder, not at a path the killed one left behind.
    expect(agentRecord(p, 2)!.cwd).not.toBe(staleRoot);
    expect(existsSync(staleRoot)).toBe(false);
    expect(existsSync(path.dirname(staleRoot))).toBe(false);
    expect(registered(p.dir)).toEqual([p.dir]);
    expect(readdirSync(worktrees).sort()).toEqual(['crucible-proj-decoy1', 'crucible-proj-empty', 'crucible-proj-link']);
    expect(readFileSync(path.join(decoy, 't', 'precious.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(path.join(victim, 't', 'precious.txt'), 'utf8')).toBe('mine\n');
    expect(readlinkSync(path.join(worktrees, 'crucible-proj-link'))).toBe(victim);
    expect(readFilesOf(p.dir, Object.keys(USER_FILES))).toEqual(before);
    expect(rowOf(p.dir, 't', 3)).toBeDefined();
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
