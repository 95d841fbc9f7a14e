import { describe, expect, it } from 'vitest';
import { ExitCode, GitError, StorageError, storageErrorFrom } from '../../src/errors.js';
import { runEveryStep, runEveryStepSync } from '../../src/loop/cleanup-steps.js';

/** Node's shape of a failed file-system call. */
function fsError(code: string, syscall: string, path?: string, dest?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, ...(path ? { path } : {}), ...(dest ? { dest } : {}) });
}

describe('storageErrorFrom: the machine refused, classified by errno code', () => {
  it.each([
    [fsError('ENOSPC', 'write'), '/p/ledger.jsonl', undefined, 'cannot write /p/ledger.jsonl: no space left on device (ENOSPC)'],
    [fsError('EROFS', 'open', '/p/results.tsv'), undefined, undefined, 'cannot open /p/results.tsv: read-only file system (EROFS)'],
    [fsError('EACCES', 'mkdir', '/p/.crucible/runs'), undefined, undefined, 'cannot create folder /p/.crucible/runs: permission denied (EACCES)'],
    [fsError('EPERM', 'open', '/p/results.tsv'), undefined, undefined, 'cannot open /p/results.tsv: operation not permitted (EPERM)'],
    [fsError('EDQUOT', 'write'), undefined, undefined, 'cannot write: disk quota exceeded (EDQUOT)'],
    [fsError('EIO', 'fdatasync'), '/p/results.tsv', undefined, 'cannot write /p/results.tsv: input/output error (EIO)'],
    [fsError('EFBIG', 'write'), '/p/ledger.jsonl', undefined, 'cannot write /p/ledger.jsonl: file too large for the file size limit (EFBIG)'],
    [fsError('EISDIR', 'open', '/p/results.tsv'), undefined, undefined, 'cannot open /p/results.tsv: it is a folder, where crucible needs a file (EISDIR)'],
    [fsError('ENOSPC', 'rename', '/p/a.tmp', '/p/a'), undefined, undefined, 'cannot rename /p/a: no space left on device (ENOSPC)'],
  ])('%s', (error, file, action, message) => {
    const storage = storageErrorFrom(error, file, action);
    expect(storage).toBeInstanceOf(StorageError);
    expect(storage?.message).toBe(message);
    expect(storage?.exitCode).toBe(ExitCode.storage);
    expect(storage?.hints).toHaveLength(1);
  });

  it.each([
    ['a missing file (a different story)', fsError('ENOENT', 'open', '/p/x')],
    ['a spawn that is not allowed (not a file write)', fsError('EACCES', 'spawn /bin/agent', '/bin/agent')],
    ['a signal to a foreign process', fsError('EPERM', 'kill')],
    ['a plain error', new Error('no space left on device')],
    ['not an error', 'ENOSPC'],
  ])('leaves %s alone', (_name, error) => {
    expect(storageErrorFrom(error)).toBeNull();
  });
});

describe('GitError', () => {
  it('names a stale lock file and says what to do, without "uncommitted changes"', () => {
    const error = new GitError(['checkout', 'crucible/t'], "fatal: Unable to create '/p/.git/index.lock': File exists.\n\nAnother git process seems to be running...", 128);
    expect(error.lockFile).toBe('/p/.git/index.lock');
    expect(error.exitCode).toBe(ExitCode.git);
    expect(error.hints.join('\n')).toMatch(/Another git process may be running.*If none is, remove \/p\/\.git\/index\.lock/);
  });

  it('is a storage failure (exit 74) when git says the disk is full', () => {
    const error = new GitError(['commit'], 'error: unable to write file .git/objects/ab/cdef: No space left on device\nfatal: cannot store blob', 128);
    expect(error.exitCode).toBe(ExitCode.storage);
    expect(error.hints[0]).toMatch(/Free some space/);
    expect(error.lockFile).toBeNull();
  });

  it("is a storage failure too in git's own words for a full disk, said as crucible says it", () => {
    const error = new GitError(['reset', '-q', '--hard', 'abc'], "fatal: sha1 file '/p/.git/worktrees/t/index.lock' write error. Out of diskspace\n", 128);
    expect(error.exitCode).toBe(ExitCode.storage);
    expect(error.message).toBe("git reset -q --hard abc failed: fatal: sha1 file '/p/.git/worktrees/t/index.lock' write error. Out of diskspace (no space left on device, ENOSPC)");
    expect(error.hints[0]).toMatch(/Free some space/);
  });

  it('stays a git failure otherwise', () => {
    const error = new GitError(['rev-parse', 'HEAD'], "fatal: ambiguous argument 'HEAD'", 128);
    expect(error.exitCode).toBe(ExitCode.git);
    expect(error.hints).toEqual([]);
  });
});

describe('cleanup steps: each runs whatever the others do', () => {
  it('runs every step and returns the errors, first first', async () => {
    const ran: string[] = [];
    const errors = await runEveryStep([
      () => {
        ran.push('ledger');
        throw new Error('disk full');
      },
      async () => {
        ran.push('worktree');
        await Promise.resolve();
      },
      () => {
        ran.push('lock');
        throw new Error('second');
      },
    ]);
    expect(ran).toEqual(['ledger', 'worktree', 'lock']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['disk full', 'second']);
  });

  it('the synchronous twin throws the first error once every step ran', () => {
    const ran: string[] = [];
    expect(() =>
      runEveryStepSync([
        () => ran.push('ledger'),
        () => {
          ran.push('results');
          throw new Error('first');
        },
        () => {
          ran.push('lock');
          throw new Error('second');
        },
        () => ran.push('folder lock'),
      ]),
    ).toThrow('first');
    expect(ran).toEqual(['ledger', 'results', 'lock', 'folder lock']);
  });
});
