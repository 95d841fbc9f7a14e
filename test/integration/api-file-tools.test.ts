import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { editWorkspaceFile, readWorkspaceFile, writeWorkspaceFile } from '../../src/agents/api/file-edits.js';
import { globWorkspace, grepWorkspace } from '../../src/agents/api/file-search.js';
import { createGlobMatcher } from '../../src/agents/api/glob-match.js';
import { createPathGuard } from '../../src/agents/api/workspace-paths.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';

/** The api backend's file tools on real folders: what they do, and what the access policy lets through. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workspace(files: Record<string, string>, policy = { editable: ['src/', 'main.py'], readonly: ['README.md'], hidden: ['eval/', 'secret.py'] }) {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'crucible-file-tools-')));
  dirs.push(base);
  const root = path.join(base, 'ws');
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
  mkdirSync(root, { recursive: true });
  return { base, root, guard: createPathGuard({ root, policy: createAccessPolicy(policy) }) };
}

const refusal = (promise: Promise<unknown>) => promise.then(() => 'no refusal', (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)));

describe('read_file', () => {
  it('returns the whole file, or a window of lines with a note on how to read on', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n');
    const { guard } = workspace({ 'main.py': `${lines}\n`, 'empty.txt': '', 'src/a.py': '' });
    expect(await readWorkspaceFile(guard, { path: 'main.py' })).toBe(`${lines}\n`);
    expect(await readWorkspaceFile(guard, { path: 'main.py', offset: 3, limit: 2 })).toBe('line 3\nline 4\n[lines 3-4 of 10 of main.py; read again with offset 5 for more]');
    expect(await readWorkspaceFile(guard, { path: 'empty.txt' })).toBe('(empty.txt is empty)');
    expect(await refusal(readWorkspaceFile(guard, { path: 'main.py', offset: 11 }))).toBe('ToolDenied: main.py has only 10 lines');
    expect(await refusal(readWorkspaceFile(guard, { path: 'nope.py' }))).toBe('ToolDenied: nope.py does not exist');
    expect(await refusal(readWorkspaceFile(guard, { path: 'src' }))).toContain('is a folder');
  });

  it('reads read-only and unlisted files, but not hidden, protected or outside ones', async () => {
    const { root, base, guard } = workspace({ 'README.md': 'read me', 'notes.txt': 'n', 'secret.py': 'S', 'eval/score.py': 'S', '.crucible/config.yaml': 'c' });
    writeFileSync(path.join(base, 'outside.txt'), 'outside');
    expect(await readWorkspaceFile(guard, { path: 'README.md' })).toBe('read me');
    expect(await readWorkspaceFile(guard, { path: path.join(root, 'notes.txt') })).toBe('n');
    expect(await refusal(readWorkspaceFile(guard, { path: 'secret.py' }))).toBe('ToolDenied: secret.py is hidden: you cannot read or change it');
    expect(await refusal(readWorkspaceFile(guard, { path: 'src/../eval/score.py' }))).toBe('ToolDenied: eval/score.py is hidden: you cannot read or change it');
    expect(await refusal(readWorkspaceFile(guard, { path: '.crucible/config.yaml' }))).toContain('belongs to crucible');
    expect(await refusal(readWorkspaceFile(guard, { path: '../outside.txt' }))).toContain('is outside the workspace');
    expect(await refusal(readWorkspaceFile(guard, { path: path.join(base, 'outside.txt') }))).toContain('is outside the workspace');
  });

  it('follows symbolic links only where they stay inside and lead to something allowed', async () => {
    const { root, base, guard } = workspace({ 'secret.py': 'S', 'README.md': 'r' });
    writeFileSync(path.join(base, 'outside.txt'), 'outside');
    symlinkSync(path.join(base, 'outside.txt'), path.join(root, 'out-link.txt'));
    symlinkSync('secret.py', path.join(root, 'innocent.py'));
    symlinkSync(base, path.join(root, 'up'));
    symlinkSync('README.md', path.join(root, 'readme-link.md'));
    expect(await refusal(readWorkspaceFile(guard, { path: 'out-link.txt' }))).toContain('out-link.txt leads outside the workspace');
    expect(await refusal(readWorkspaceFile(guard, { path: 'up/outside.txt' }))).toContain('leads outside the workspace');
    expect(await refusal(readWorkspaceFile(guard, { path: 'innocent.py' }))).toBe('ToolDenied: innocent.py is hidden: you cannot read or change it');
    expect(await readWorkspaceFile(guard, { path: 'readme-link.md' })).toBe('r');
  });
});

describe('edit_file and write_file', () => {
  it('replaces text that occurs exactly once, or every occurrence with replace_all', async () => {
    const { root, guard } = workspace({ 'main.py': 'a = 1\nb = 1\nprint("$&")\n' });
    const file = path.join(root, 'main.py');
    expect(await refusal(editWorkspaceFile(guard, { path: 'main.py', old_string: ' = 1', new_string: ' = 2' }))).toBe(
      'ToolDenied: old_string occurs 2 times in main.py: include more surrounding lines to make it unique, or set replace_all to replace every one',
    );
    expect(await editWorkspaceFile(guard, { path: 'main.py', old_string: 'a = 1', new_string: 'a = $&' })).toBe('edited main.py: replaced one occurrence');
    expect(readFileSync(file, 'utf8')).toBe('a = $&\nb = 1\nprint("$&")\n');
    expect(await editWorkspaceFile(guard, { path: 'main.py', old_string: '$&', new_string: '3', replace_all: true })).toBe('edited main.py: replaced 2 occurrences');
    expect(readFileSync(file, 'utf8')).toBe('a = 3\nb = 1\nprint("3")\n');
    expect(await refusal(editWorkspaceFile(guard, { path: 'main.py', old_string: 'zzz', new_string: 'y' }))).toContain('old_string was not found in main.py');
    expect(await refusal(editWorkspaceFile(guard, { path: 'main.py', old_string: 'b', new_string: 'b' }))).toContain('nothing would change');
    expect(await refusal(editWorkspaceFile(guard, { path: 'src/new.py', old_string: 'b', new_string: 'c' }))).toBe('ToolDenied: src/new.py does not exist; use write_file to create it');
  });

  it('matches text written with \\n in a file with Windows line ends', async () => {
    const { root, guard } = workspace({ 'main.py': 'a = 1\r\nb = 2\r\n' });
    await editWorkspaceFile(guard, { path: 'main.py', old_string: 'a = 1\nb = 2', new_string: 'a = 5\nb = 6' });
    expect(readFileSync(path.join(root, 'main.py'), 'utf8')).toBe('a = 5\r\nb = 6\r\n');
  });

  it('writes editable files (creating folders), and refuses every other file', async () => {
    const { root, base, guard } = workspace({ 'README.md': 'r', 'secret.py': 'S', 'main.py': 'm' });
    expect(await writeWorkspaceFile(guard, { path: 'src/deep/new.py', content: 'x = 1\ny = 2\n' })).toBe('created src/deep/new.py (2 lines)');
    expect(await writeWorkspaceFile(guard, { path: 'main.py', content: 'n' })).toBe('wrote main.py (1 line)');
    expect(readFileSync(path.join(root, 'src/deep/new.py'), 'utf8')).toBe('x = 1\ny = 2\n');
    expect(await refusal(writeWorkspaceFile(guard, { path: 'README.md', content: 'x' }))).toBe('ToolDenied: README.md is read-only (editable files: src/, main.py)');
    expect(await refusal(writeWorkspaceFile(guard, { path: 'other.py', content: 'x' }))).toBe('ToolDenied: other.py is read-only (editable files: src/, main.py)');
    expect(await refusal(writeWorkspaceFile(guard, { path: 'secret.py', content: 'x' }))).toContain('secret.py is hidden');
    expect(await refusal(writeWorkspaceFile(guard, { path: '.git/config', content: 'x' }))).toContain('belongs to crucible');
    expect(await refusal(editWorkspaceFile(guard, { path: 'README.md', old_string: 'r', new_string: 'x' }))).toContain('is read-only');
    // An editable name that is a link to a read-only file, or a folder link leading outside, changes nothing.
    symlinkSync('../README.md', path.join(root, 'src', 'readme.py'));
    symlinkSync(base, path.join(root, 'src', 'up'));
    symlinkSync(path.join(base, 'nowhere.txt'), path.join(root, 'src', 'dangling.py'));
    expect(await refusal(writeWorkspaceFile(guard, { path: 'src/readme.py', content: 'x' }))).toContain('is read-only');
    expect(await refusal(writeWorkspaceFile(guard, { path: 'src/up/escaped.py', content: 'x' }))).toContain('leads outside the workspace');
    expect(await refusal(writeWorkspaceFile(guard, { path: 'src/dangling.py', content: 'x' }))).toContain('broken symbolic link');
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toBe('r');
    expect(existsSync(path.join(base, 'escaped.py'))).toBe(false);
    expect(existsSync(path.join(base, 'nowhere.txt'))).toBe(false);
  });
});

describe('glob and grep', () => {
  const files = {
    'main.py': 'import src.util\nprint(SCORE)\n',
    'src/util.py': 'def helper():\n    return 42\n',
    'src/nested/deep.py': 'SCORE = 1\n',
    'src/data.bin': 'ab\u0000cd SCORE',
    'README.md': 'Score things.\n',
    'secret.py': 'SCORE = "hidden"\n',
    'eval/score.py': 'SCORE\n',
    'node_modules/pkg/index.js': 'SCORE\n',
  };

  it('glob lists matching files the model may see, never hidden or protected ones', async () => {
    const { guard } = workspace(files);
    expect(await globWorkspace(guard, { pattern: '*.py' })).toBe('main.py\nsrc/nested/deep.py\nsrc/util.py');
    expect(await globWorkspace(guard, { pattern: 'src/*.py' })).toBe('src/util.py');
    expect(await globWorkspace(guard, { pattern: '**/*.{py,md}' })).toBe('README.md\nmain.py\nsrc/nested/deep.py\nsrc/util.py');
    expect(await globWorkspace(guard, { pattern: '*.py', path: 'src/nested' })).toBe('src/nested/deep.py');
    expect(await globWorkspace(guard, { pattern: '*.rs' })).toBe('no files match *.rs');
    expect(await refusal(globWorkspace(guard, { pattern: '*', path: 'eval' }))).toContain('eval is hidden');
  });

  it('grep finds lines in text files and skips hidden files entirely', async () => {
    const { guard } = workspace(files);
    expect(await grepWorkspace(guard, { pattern: 'SCORE' })).toBe('main.py:2: print(SCORE)\nsrc/nested/deep.py:1: SCORE = 1');
    expect(await grepWorkspace(guard, { pattern: 'score', ignore_case: true, glob: '*.md' })).toBe('README.md:1: Score things.');
    expect(await grepWorkspace(guard, { pattern: 'return \\d+', path: 'src/util.py' })).toBe('src/util.py:2:     return 42');
    expect(await grepWorkspace(guard, { pattern: 'hidden' })).toBe('no matches for hidden');
    expect(await refusal(grepWorkspace(guard, { pattern: 'x', path: 'secret.py' }))).toContain('secret.py is hidden');
    expect(await refusal(grepWorkspace(guard, { pattern: '(' }))).toContain('not a valid regular expression');
  });
});

describe('createGlobMatcher', () => {
  it.each([
    ['*.py', 'a/b/c.py', true],
    ['*.py', 'c.pyc', false],
    ['src/*.py', 'src/a.py', true],
    ['src/*.py', 'src/x/a.py', false],
    ['src/**/*.py', 'src/a.py', true],
    ['src/**/*.py', 'src/x/y/a.py', true],
    ['**', 'anything/at/all', true],
    ['file?.txt', 'file1.txt', true],
    ['[ab].txt', 'c.txt', false],
    ['[!ab].txt', 'c.txt', true],
    ['*.{js,ts}', 'x/y.ts', true],
    ['./main.py', 'main.py', true],
  ])('%s matches %s: %s', (pattern, file, expected) => {
    expect(createGlobMatcher(pattern)(file)).toBe(expected);
  });
});
