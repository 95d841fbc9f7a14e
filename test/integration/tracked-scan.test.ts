import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanTrackedFiles, type TrackedChanges } from '../../src/workspace/tracked-scan.js';
import { git, makeGitRepo, testGitEnv } from '../helpers/git-repo.js';

/**
 * The in-process scan of an agent's worktree must say what `git status` says, or nothing (null,
 * and git is asked). Each case is checked against git's own answer in the same repository.
 */

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const FILES: Record<string, string> = {
  'train.py': 'lr = 0.1\n',
  'src/model.py': 'layers = 2\n',
  'src/deep/util.py': 'def f(): pass\n',
  'README.md': '# r\n',
  '.gitignore': '*.log\n',
};

function setup() {
  const r = makeGitRepo(FILES);
  cleanups.push(r.cleanup);
  // git's status leaves the index refreshed and holding HEAD: the state crucible notes as clean.
  expect(git(r.dir, 'status', '--porcelain')).toBe('');
  return { dir: r.dir, index: path.join(r.dir, '.git', 'index'), checksum: checksumOf(r.dir) };
}

const checksumOf = (dir: string) => {
  const data = readFileSync(path.join(dir, '.git', 'index'));
  return data.toString('hex', data.length - 20);
};

/** git's answer, in the scan's terms: null when git reports anything but edited or removed tracked files. */
function gitsAnswer(dir: string): TrackedChanges | null {
  const modified: string[] = [];
  const deleted: string[] = [];
  const status = execFileSync('git', ['status', '--porcelain=v1', '--untracked-files=all', '--no-renames'], { cwd: dir, env: testGitEnv, encoding: 'utf8' });
  for (const line of status.split('\n').filter(Boolean)) {
    const [x, y, name] = [line[0], line[1], line.slice(3)];
    if (x !== ' ') return null;
    if (y === 'M') modified.push(name);
    else if (y === 'D') deleted.push(name);
    else return null;
  }
  return { modified, deleted };
}

const sorted = (c: TrackedChanges | null) => c && { modified: [...c.modified].sort(), deleted: [...c.deleted].sort() };

describe('the scan of tracked files without git', () => {
  it('finds edited and removed files as git status does, and nothing in a clean worktree', () => {
    const { dir, index, checksum } = setup();
    expect(scanTrackedFiles(dir, index, checksum)).toEqual({ modified: [], deleted: [] });
    writeFileSync(path.join(dir, 'train.py'), 'lr = 0.2\n'); // same size
    writeFileSync(path.join(dir, 'src/deep/util.py'), 'def f(): return 1\n');
    rmSync(path.join(dir, 'src/model.py'));
    // A file rewritten with its own content is not a change.
    writeFileSync(path.join(dir, 'README.md'), '# r\n');
    const scanned = sorted(scanTrackedFiles(dir, index, checksum));
    expect(scanned).toEqual({ modified: ['src/deep/util.py', 'train.py'], deleted: ['src/model.py'] });
    expect(sorted(gitsAnswer(dir))).toEqual(scanned);
  });

  it('leaves it to git when a file is untracked or ignored, a link, a changed mode or kind, a .git below the top', () => {
    const cases: Array<[string, (dir: string) => void]> = [
      ['an untracked file', (dir) => writeFileSync(path.join(dir, 'src/new.py'), 'new\n')],
      ['an ignored file', (dir) => writeFileSync(path.join(dir, 'run.log'), 'log\n')],
      ['a link', (dir) => symlinkSync('train.py', path.join(dir, 'link.py'))],
      ['an executable bit', (dir) => chmodSync(path.join(dir, 'train.py'), 0o755)],
      ['a file turned folder', (dir) => {
        rmSync(path.join(dir, 'README.md'));
        mkdirSync(path.join(dir, 'README.md'));
        writeFileSync(path.join(dir, 'README.md', 'x'), 'x\n');
      }],
    ];
    for (const [what, act] of cases) {
      const { dir, index, checksum } = setup();
      act(dir);
      expect(scanTrackedFiles(dir, index, checksum), what).toBeNull();
      // and git has something to say that the scan could not
      expect(git(dir, 'status', '--porcelain', '--untracked-files=all', '--ignored'), what).not.toBe('');
    }
    // A `.git` below the top may be a repository of its own: git decides.
    const { dir, index, checksum } = setup();
    mkdirSync(path.join(dir, 'src', '.git'));
    expect(scanTrackedFiles(dir, index, checksum)).toBeNull();
  });

  it('leaves it to git when the index is not the one known clean (the agent staged something)', () => {
    const { dir, index, checksum } = setup();
    writeFileSync(path.join(dir, 'train.py'), 'lr = 0.3\n');
    git(dir, 'add', 'train.py');
    writeFileSync(path.join(dir, 'train.py'), 'lr = 0.1\n');
    expect(scanTrackedFiles(dir, index, checksum)).toBeNull();
    // Without the checksum test the scan would see the file as it is in HEAD... and git sees a staged change.
    expect(git(dir, 'status', '--porcelain')).toMatch(/^MM train\.py/);
  });

  it('reports a file written where a skip-worktree (hidden) entry is, through git', () => {
    const { dir, index } = setup();
    git(dir, 'update-index', '--skip-worktree', 'README.md');
    rmSync(path.join(dir, 'README.md'));
    const checksum = checksumOf(dir);
    // Absent, as the hidden files of an agent's worktree are: not a deletion.
    expect(scanTrackedFiles(dir, index, checksum)).toEqual({ modified: [], deleted: [] });
    expect(git(dir, 'status', '--porcelain')).toBe('');
    writeFileSync(path.join(dir, 'README.md'), 'planted\n');
    expect(scanTrackedFiles(dir, index, checksum)).toBeNull();
  });

  it('sees a same-size edit by its stat data when the entry is older than the index (not racy)', () => {
    const { dir, index, checksum } = setup();
    // The index written well after the files: every entry is trusted by its stat data alone.
    const later = new Date(Date.now() + 10_000);
    utimesSync(index, later, later);
    writeFileSync(path.join(dir, 'train.py'), 'lr = 0.9\n'); // same size, same inode
    // A later second (git compares whole seconds unless built with USE_NSEC), still before the index.
    const edited = new Date(Date.now() + 2_000);
    utimesSync(path.join(dir, 'train.py'), edited, edited);
    expect(scanTrackedFiles(dir, index, checksum)).toEqual({ modified: ['train.py'], deleted: [] });
    expect(gitsAnswer(dir)).toEqual({ modified: ['train.py'], deleted: [] });
  });

  it("hashes a file whose stat data matches an entry not older than the index (git's racy entries), and trusts the rest", () => {
    const { dir, index } = setup();
    // An entry whose stat data matches the file but whose id is another blob's: what an edit in
    // the same clock tick as the index's write looks like. git trusts the stat data only when
    // the entry is older than the index.
    const data = readFileSync(index);
    const at = data.indexOf(Buffer.from('train.py\0'));
    const entry = at - 62;
    expect(data.toString('hex', entry + 40, entry + 60)).toBe(git(dir, 'rev-parse', 'HEAD:train.py'));
    data.write(git(dir, 'hash-object', '--stdin', '-w'), entry + 40, 20, 'hex');
    const patched = Buffer.concat([data.subarray(0, data.length - 20), createHash('sha1').update(data.subarray(0, data.length - 20)).digest()]);
    writeFileSync(index, patched);
    const checksum = checksumOf(dir);
    const fileTime = statSync(path.join(dir, 'train.py')).mtime;
    // Index newer than the file: the entry is trusted, by git and by the scan.
    utimesSync(index, new Date(fileTime.getTime() + 5000), new Date(fileTime.getTime() + 5000));
    expect(scanTrackedFiles(dir, index, checksum)).toEqual({ modified: [], deleted: [] });
    expect(git(dir, 'diff-files', '--name-only')).toBe('');
    // Index not newer than the file: racy, so the content is compared, and differs.
    utimesSync(index, new Date(fileTime.getTime() - 1000), new Date(fileTime.getTime() - 1000));
    expect(scanTrackedFiles(dir, index, checksum)).toEqual({ modified: ['train.py'], deleted: [] });
    expect(git(dir, 'diff-files', '--name-only')).toBe('train.py');
  });
});
