import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git, writeFiles } from '../helpers/git-repo.js';
import { createTinyProject, killLeftovers, planAgent, shellSolution, rowOf, type TinyProject } from '../helpers/project.js';

/**
 * The run's branch is the only one crucible may move. Whatever the user or the experiment does to
 * HEAD, the branches and the index during a run, crucible notices before its next git step, stops
 * with a message saying what changed, and loses nothing.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});


const IDENTITY = '-c user.name=u -c user.email=u@example.com -c commit.gpgsign=false';

describe('the run branch is guarded', () => {
  it('an experiment that checks out main and commits there: main keeps the commit and its file', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    // X=0 scores worse than the baseline: without a guard the discard's reset moves main back.
    planAgent(p, { 1: { write: { 'solution.js': shellSolution(0, `git checkout -q main && echo mine > user.txt && git add user.txt && git ${IDENTITY} commit -qm 'my work'`) } }, 2: { x: 3 } });

    await expect(startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 })).rejects.toThrow(/crucible\/t/);

    expect(git(p.dir, 'log', '-1', '--format=%s', 'main')).toBe('my work');
    expect(readFileSync(path.join(p.dir, 'user.txt'), 'utf8')).toBe('mine\n');
    expect(git(p.dir, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(rowOf(p.dir, 't', 2)).toBeUndefined();
  });

  it('an experiment that commits the user\'s untracked file: the file stays on disk, and no later trial builds on that commit', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { write: { 'solution.js': shellSolution(0, `git add -A && git ${IDENTITY} commit -qm sneaky`) } }, 2: { x: 3 }, 3: { x: 4 } });

    await expect(startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 })).rejects.toThrow(/commit/);
    expect(readFileSync(path.join(p.dir, 'notes.txt'), 'utf8')).toBe('my notes, never committed\n');

    // A resume must not measure later trials on top of the experiment's commit.
    await expect(startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 })).rejects.toThrow(/sneaky|moved|expected/);
    expect(readFileSync(path.join(p.dir, 'notes.txt'), 'utf8')).toBe('my notes, never committed\n');
    expect(rowOf(p.dir, 't', 2)).toBeUndefined();
  });

  it('a change the user staged stays staged through keeps and discards', async () => {
    const p = createTinyProject({ agent: 'command', files: { 'NOTES.md': 'v1\n' } });
    project = p;
    writeFileSync(path.join(p.dir, 'NOTES.md'), 'v2, staged\n');
    git(p.dir, 'add', 'NOTES.md');
    planAgent(p, { 1: { x: 5 }, 2: { x: 2 }, 3: { x: 7 } });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 3 });

    expect([rowOf(p.dir, 't', 1)?.['status'], rowOf(p.dir, 't', 2)?.['status'], rowOf(p.dir, 't', 3)?.['status']]).toEqual(['keep', 'discard', 'keep']);
    expect(git(p.dir, 'diff', '--cached', '--name-only')).toBe('NOTES.md');
    expect(readFileSync(path.join(p.dir, 'NOTES.md'), 'utf8')).toBe('v2, staged\n');
  });

  it('refuses a project folder that the enclosing repository does not track', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    // A new project under an existing checkout: the folder exists on disk but git knows nothing of it.
    const sub = path.join(p.dir, 'newproj');
    mkdirSync(sub);
    writeFiles(sub, {
      '.crucible/config.yaml': readFileSync(path.join(p.dir, '.crucible/config.yaml'), 'utf8'),
      'solution.js': 'export const X = 1;\n',
      'evaluate.js': 'import { X } from "./solution.js"; console.log(`score: ${X}`);\n',
      'package.json': '{ "type": "module" }\n',
    });
    const branchesBefore = git(p.dir, 'branch', '--list');

    await expect(startRun({ projectDir: sub, tag: 't', env: p.env, maxIterations: 1 })).rejects.toThrow(/git init|commit/);

    expect(git(p.dir, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(git(p.dir, 'branch', '--list')).toBe(branchesBefore);
    expect(existsSync(path.join(sub, '.crucible', 'runs'))).toBe(false);
  });
});
