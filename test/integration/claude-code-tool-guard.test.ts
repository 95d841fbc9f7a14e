import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolGuard, type ToolGuard } from '../../src/agents/claude-code/tool-guard.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';

// The guard every Claude Code tool call passes, on a real folder with real symbolic links.

let base: string;
let root: string;
let guard: ToolGuard;

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-cc-guard-')));
  root = path.join(base, 'ws');
  mkdirSync(path.join(root, 'src'), { recursive: true });
  mkdirSync(path.join(root, '.crucible'));
  writeFileSync(path.join(root, 'src', 'model.py'), 'x = 1\n');
  writeFileSync(path.join(root, 'README.md'), 'readme\n');
  writeFileSync(path.join(base, 'secret.txt'), 'outside\n');
  symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'src', 'escape.py'));
  symlinkSync(path.join(base, 'nowhere.txt'), path.join(root, 'src', 'dangling.py'));
  symlinkSync(path.join(root, 'README.md'), path.join(root, 'src', 'readme-link.py'));
  guard = createToolGuard({ root, policy: createAccessPolicy({ editable: ['src/'], readonly: ['README.md'], hidden: ['evaluate.py', 'data/test/'] }) });
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const verdict = (tool: string, input: Record<string, unknown>): string => {
  const v = guard(tool, input);
  return v.allow ? 'allow' : v.message;
};

describe('the claude-code tool guard', () => {
  it('lets the model read anything visible and edit the editable files, by relative or absolute path', () => {
    expect(verdict('Read', { file_path: 'README.md' })).toBe('allow');
    expect(verdict('Read', { file_path: path.join(root, 'src', 'model.py') })).toBe('allow');
    expect(verdict('Edit', { file_path: 'src/model.py', old_string: 'x = 1', new_string: 'x = 2' })).toBe('allow');
    expect(verdict('Write', { file_path: 'src/new/helper.py', content: '' })).toBe('allow');
    expect(verdict('Read', { file_path: 'src/../README.md' })).toBe('allow');
    expect(verdict('Glob', { pattern: '**/*.py' })).toBe('allow');
    expect(verdict('Grep', { pattern: 'x' })).toBe('allow');
    expect(verdict('Grep', { pattern: 'x', path: 'src' })).toBe('allow');
  });

  it('refuses hidden files, honestly, whatever the spelling', () => {
    expect(verdict('Read', { file_path: 'evaluate.py' })).toBe('evaluate.py is hidden: you cannot read or change it');
    expect(verdict('Read', { file_path: './src/../evaluate.py' })).toBe('evaluate.py is hidden: you cannot read or change it');
    expect(verdict('Write', { file_path: path.join(root, 'evaluate.py'), content: '' })).toBe('evaluate.py is hidden: you cannot read or change it');
    expect(verdict('Grep', { pattern: 'x', path: 'data/test' })).toBe('data/test is hidden: you cannot read or change it');
    expect(verdict('Glob', { pattern: '*', path: 'data/test/' })).toBe('data/test is hidden: you cannot read or change it');
  });

  it("refuses crucible's own files", () => {
    expect(verdict('Read', { file_path: '.crucible/config.yaml' })).toBe('.crucible/config.yaml belongs to crucible: you cannot read or change it');
    expect(verdict('Grep', { pattern: 'x', path: '.git' })).toBe('.git belongs to crucible: you cannot read or change it');
  });

  it('refuses writes outside the editable files, naming them', () => {
    expect(verdict('Edit', { file_path: 'README.md' })).toBe('README.md is read-only (editable files: src/)');
    expect(verdict('Write', { file_path: 'notes.txt', content: '' })).toBe('notes.txt is read-only (editable files: src/)');
    // A link inside src/ to a read-only file is as read-only as the file.
    expect(verdict('Write', { file_path: 'src/readme-link.py', content: '' })).toBe('src/readme-link.py is read-only (editable files: src/)');
  });

  it('refuses every path that leads outside the workspace', () => {
    const outside = path.join(base, 'secret.txt');
    expect(verdict('Read', { file_path: outside })).toBe(`${outside} is outside the workspace: use paths inside ${root} (relative paths are fine)`);
    expect(verdict('Read', { file_path: '../secret.txt' })).toMatch(/^\.\.\/secret\.txt is outside the workspace/);
    expect(verdict('Read', { file_path: '/etc/passwd' })).toMatch(/is outside the workspace/);
    expect(verdict('Grep', { pattern: 'x', path: base })).toMatch(/is outside the workspace/);
    expect(verdict('Glob', { pattern: '*', path: '..' })).toMatch(/is outside the workspace/);
    expect(verdict('Read', { file_path: 'src/escape.py' })).toBe('src/escape.py leads outside the workspace (a symbolic link): you cannot use it');
    expect(verdict('Write', { file_path: 'src/dangling.py', content: '' })).toBe('src/dangling.py leads outside the workspace (a symbolic link): you cannot use it');
    expect(verdict('Glob', { pattern: '../**/*' })).toMatch(/^the pattern \.\.\/\*\*\/\* reaches outside the workspace/);
    expect(verdict('Glob', { pattern: `${base}/*` })).toMatch(/reaches outside the workspace/);
  });

  it('refuses tools it does not know and calls without a path', () => {
    expect(verdict('Bash', { command: 'cat evaluate.py' })).toBe('Bash is not available here: use Read, Edit, Write, Glob, Grep');
    expect(verdict('Read', {})).toBe('file_path is missing');
  });
});
