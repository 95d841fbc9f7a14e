import { describe, expect, it } from 'vitest';
import { createAccessPolicy, normalizeRelative, type Access } from '../../src/workspace/access-policy.js';

type Files = { editable?: string[]; readonly?: string[]; hidden?: string[] };
const policy = (files: Files) => createAccessPolicy({ editable: files.editable ?? [], readonly: files.readonly ?? [], hidden: files.hidden ?? [] });

const cases: Array<[string, Files, string, Access]> = [
  ['an exact path matches itself', { editable: ['train.py'] }, 'train.py', 'editable'],
  ['an exact path does not match a longer name', { editable: ['train.py'] }, 'train.py.bak', 'unlisted'],
  ['an exact path is anchored at the root', { editable: ['train.py'] }, 'sub/train.py', 'unlisted'],
  ['a folder entry covers everything below', { editable: ['src/'] }, 'src/deep/a.py', 'editable'],
  ['a folder entry does not cover a sibling with the same prefix', { editable: ['src/'] }, 'srcx/a.py', 'unlisted'],
  ['a plain folder name also covers everything below', { editable: ['src'] }, 'src/a.py', 'editable'],
  ['"*" matches within one folder', { editable: ['*.py'] }, 'model.py', 'editable'],
  ['"*" does not cross folders', { editable: ['*.py'] }, 'sub/model.py', 'unlisted'],
  ['"**/" matches at the root', { editable: ['**/config.py'] }, 'config.py', 'editable'],
  ['"**/" matches at any depth', { editable: ['**/config.py'] }, 'a/b/config.py', 'editable'],
  ['"**/x" does not match a name ending in x', { editable: ['**/config.py'] }, 'a/myconfig.py', 'unlisted'],
  ['"**/*.py" matches at any depth', { editable: ['**/*.py'] }, 'a/b/c.py', 'editable'],
  ['"?" matches one character', { editable: ['v?.py'] }, 'v2.py', 'editable'],
  ['a character class', { editable: ['[ab].py'] }, 'b.py', 'editable'],
  ['a glob matching a folder covers its contents', { readonly: ['data*'] }, 'data2/x.csv', 'readonly'],
  ['hidden wins over editable', { editable: ['src/'], hidden: ['src/secret.py'] }, 'src/secret.py', 'hidden'],
  ['hidden wins over readonly', { readonly: ['eval/'], hidden: ['eval/'] }, 'eval/x.py', 'hidden'],
  ['readonly wins over editable', { editable: ['src/'], readonly: ['src/const.py'] }, 'src/const.py', 'readonly'],
  ['.crucible is protected even when listed as editable', { editable: ['.crucible/'] }, '.crucible/config.yaml', 'protected'],
  ['.git is protected', { editable: ['**/*'] }, '.git/config', 'protected'],
  ['a nested .git is protected', { editable: ['**/*'] }, 'vendor/.git', 'protected'],
  ['hidden wins over protected', { hidden: ['.crucible/secret'] }, '.crucible/secret', 'hidden'],
  ['"./" in an entry is ignored', { editable: ['./train.py'] }, 'train.py', 'editable'],
  ['"./" and doubled slashes in a path are ignored', { editable: ['src/a.py'] }, './src//a.py', 'editable'],
  ['backslashes count as separators', { editable: ['src/'] }, 'src\\a.py', 'editable'],
];

describe('createAccessPolicy().classify', () => {
  it.each(cases)('%s', (_name, files, file, expected) => {
    expect(policy(files).classify(file)).toBe(expected);
  });

  it('keeps the entries it was given', () => {
    const p = policy({ editable: ['a.py'], readonly: ['b/'], hidden: ['c.py'] });
    expect([p.editable, p.readonly, p.hidden]).toEqual([['a.py'], ['b/'], ['c.py']]);
  });
});

describe('normalizeRelative', () => {
  it.each([
    ['./a//b/', 'a/b'],
    ['a\\b', 'a/b'],
    ['.', ''],
  ])('%s → %s', (input, output) => {
    expect(normalizeRelative(input)).toBe(output);
  });
});
