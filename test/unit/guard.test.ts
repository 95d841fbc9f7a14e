import { describe, expect, it } from 'vitest';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { checkChanges, type GuardVerdict } from '../../src/workspace/guard.js';
import type { WorktreeChange } from '../../src/workspace/worktree-change.js';

const policy = createAccessPolicy({
  editable: ['train.py', 'src/', '.crucible/'],
  readonly: ['prepare.py', 'data/'],
  hidden: ['evaluate.py'],
});
const mod = (path: string, extra: Partial<WorktreeChange> = {}): WorktreeChange => ({ path, kind: 'modified', ...extra });

const cases: Array<[string, WorktreeChange[], GuardVerdict]> = [
  ['nothing changed', [], { outcome: 'skip', reason: 'no files were changed' }],
  [
    'editable files only, listed by path',
    [mod('train.py'), { path: 'src/new.py', kind: 'added' }, { path: 'src/old.py', kind: 'deleted' }],
    { outcome: 'ok', files: ['src/new.py', 'src/old.py', 'train.py'] },
  ],
  [
    'a hidden file created',
    [{ path: 'evaluate.py', kind: 'added' }],
    { outcome: 'violation', reason: 'evaluate.py is hidden and may not be created or changed', file: 'evaluate.py' },
  ],
  [
    "crucible's own file",
    [mod('.crucible/config.yaml')],
    { outcome: 'violation', reason: ".crucible/config.yaml is crucible's own file", file: '.crucible/config.yaml' },
  ],
  [
    "git's own file",
    [{ path: 'src/.git', kind: 'added' }],
    { outcome: 'violation', reason: 'src/.git belongs to git and may not be changed', file: 'src/.git' },
  ],
  ['a read-only file', [mod('data/x.csv')], { outcome: 'violation', reason: 'data/x.csv is read-only', file: 'data/x.csv' }],
  ['a read-only file deleted', [{ path: 'prepare.py', kind: 'deleted' }], { outcome: 'violation', reason: 'prepare.py is read-only', file: 'prepare.py' }],
  ['an unlisted file', [{ path: 'notes.md', kind: 'added' }], { outcome: 'violation', reason: 'notes.md is not in files.editable', file: 'notes.md' }],
  [
    'a file outside the project',
    [mod('../other/x.py')],
    { outcome: 'violation', reason: '../other/x.py is outside the project folder', file: '../other/x.py' },
  ],
  [
    'a file outside the project that an editable glob would match',
    [mod('../x/train.py')],
    { outcome: 'violation', reason: '../x/train.py is outside the project folder', file: '../x/train.py' },
  ],
  [
    'the first offence by path, whatever the input order',
    [mod('train.py'), mod('zeta.md'), mod('prepare.py'), mod('evaluate.py')],
    { outcome: 'violation', reason: 'evaluate.py is hidden and may not be created or changed', file: 'evaluate.py' },
  ],
  [
    'a symbolic link at an editable path',
    [{ path: 'src/link.py', kind: 'added', special: 'symlink' }],
    { outcome: 'violation', reason: 'src/link.py is a symbolic link; only regular files may be changed', file: 'src/link.py' },
  ],
  [
    'a folder git cannot look into',
    [{ path: 'src/vendored', kind: 'added', special: 'other' }],
    { outcome: 'violation', reason: 'src/vendored is not a regular file', file: 'src/vendored' },
  ],
  [
    'access is judged before file type',
    [{ path: 'prepare.py', kind: 'modified', special: 'symlink' }],
    { outcome: 'violation', reason: 'prepare.py is read-only', file: 'prepare.py' },
  ],
];

describe('checkChanges', () => {
  it.each(cases)('%s', (_name, changes, verdict) => {
    expect(checkChanges(changes, policy)).toEqual(verdict);
  });

  it('does not reorder the caller\'s array', () => {
    const changes = [mod('train.py'), mod('src/a.py')];
    checkChanges(changes, policy);
    expect(changes.map((c) => c.path)).toEqual(['train.py', 'src/a.py']);
  });
});
