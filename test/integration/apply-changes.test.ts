import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProjectError } from '../../src/errors.js';
import { applyChanges } from '../../src/workspace/apply-changes.js';
import type { WorktreeChange } from '../../src/workspace/worktree-change.js';
import { writeFiles } from '../helpers/git-repo.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folders(project: Record<string, string>, worktree: Record<string, string>) {
  const make = (files: Record<string, string>) => {
    const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-apply-')));
    dirs.push(dir);
    writeFiles(dir, files);
    return dir;
  };
  return { project: make(project), worktree: make(worktree) };
}

const read = (dir: string, rel: string) => readFileSync(path.join(dir, rel), 'utf8');

describe('applyChanges', () => {
  it('writes new and modified files, deletes deleted ones, and touches nothing else', async () => {
    const { project, worktree } = folders(
      { 'train.py': 'old\n', 'src/gone.py': 'g\n', 'notes.txt': 'user notes\n', 'model.py': 'user edit\n' },
      { 'train.py': 'new\n', 'src/deep/new.py': 'n\n', 'model.py': 'agent edit, not applied\n' },
    );
    chmodSync(path.join(worktree, 'train.py'), 0o755);
    const changes: WorktreeChange[] = [
      { path: 'train.py', kind: 'modified' },
      { path: 'src/deep/new.py', kind: 'added' },
      { path: 'src/gone.py', kind: 'deleted' },
    ];
    await applyChanges(project, worktree, changes);
    expect(read(project, 'train.py')).toBe('new\n');
    expect(statSync(path.join(project, 'train.py')).mode & 0o111).not.toBe(0);
    expect(read(project, 'src/deep/new.py')).toBe('n\n');
    expect(existsSync(path.join(project, 'src/gone.py'))).toBe(false);
    expect(read(project, 'notes.txt')).toBe('user notes\n');
    expect(read(project, 'model.py')).toBe('user edit\n');
  });

  it.each(['../escape.py', '/etc/passwd', '.git/config', 'a/../../b.py'])('refuses the path %s', async (rel) => {
    const { project, worktree } = folders({ 'a.py': '' }, { 'a.py': '' });
    await expect(applyChanges(project, worktree, [{ path: rel, kind: 'modified' }])).rejects.toThrow(ProjectError);
  });

  it('refuses to write through a folder that is a symbolic link, before writing anything', async () => {
    const { project, worktree } = folders({ 'train.py': 'old\n' }, { 'train.py': 'new\n', 'src/a.py': 'a\n' });
    const outside = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-outside-')));
    dirs.push(outside);
    symlinkSync(outside, path.join(project, 'src'));
    const changes: WorktreeChange[] = [
      { path: 'train.py', kind: 'modified' },
      { path: 'src/a.py', kind: 'added' },
    ];
    await expect(applyChanges(project, worktree, changes)).rejects.toThrow(/symbolic link/);
    expect(existsSync(path.join(outside, 'a.py'))).toBe(false);
    expect(read(project, 'train.py')).toBe('old\n');
  });

  it('refuses a symbolic link in the worktree', async () => {
    const { project, worktree } = folders({}, {});
    symlinkSync('/etc/hostname', path.join(worktree, 'link.py'));
    await expect(applyChanges(project, worktree, [{ path: 'link.py', kind: 'added' }])).rejects.toThrow(/not a regular file/);
    expect(existsSync(path.join(project, 'link.py'))).toBe(false);
  });

  it('replaces a symbolic link in the project instead of writing through it', async () => {
    const { project, worktree } = folders({ 'secret.txt': 'keep\n' }, { 'train.py': 'new\n' });
    symlinkSync('secret.txt', path.join(project, 'train.py'));
    await applyChanges(project, worktree, [{ path: 'train.py', kind: 'modified' }]);
    expect(read(project, 'secret.txt')).toBe('keep\n');
    expect(read(project, 'train.py')).toBe('new\n');
  });

  it('removes folders a deletion leaves empty, but not the project itself', async () => {
    const { project, worktree } = folders({ 'src/a/b.py': 'b\n', 'src/keep.py': 'k\n' }, {});
    await applyChanges(project, worktree, [{ path: 'src/a/b.py', kind: 'deleted' }]);
    expect(existsSync(path.join(project, 'src/a'))).toBe(false);
    expect(existsSync(path.join(project, 'src/keep.py'))).toBe(true);
    await applyChanges(project, worktree, [{ path: 'src/keep.py', kind: 'deleted' }]);
    expect(existsSync(project)).toBe(true);
  });
});
