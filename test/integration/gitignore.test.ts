import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureGitignored } from '../../src/project/gitignore.js';

let dir: string;
const gitignore = (): string => readFileSync(join(dir, '.gitignore'), 'utf8');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crucible-gitignore-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('ensureGitignored', () => {
  it('creates .gitignore with the patterns when there is none', async () => {
    const result = await ensureGitignored(dir, ['results.tsv', '.crucible/runs/']);
    expect(result).toEqual({ changed: true, added: ['results.tsv', '.crucible/runs/'] });
    expect(gitignore()).toBe('results.tsv\n.crucible/runs/\n');
  });

  it('appends only what is missing, keeping the user\'s lines as they were', async () => {
    writeFileSync(join(dir, '.gitignore'), '# mine\n  results.tsv  \n*.pyc\n');
    const result = await ensureGitignored(dir, ['results.tsv', '.crucible/runs/', 'run.log', 'run.log']);
    expect(result).toEqual({ changed: true, added: ['.crucible/runs/', 'run.log'] });
    expect(gitignore()).toBe('# mine\n  results.tsv  \n*.pyc\n.crucible/runs/\nrun.log\n');
    expect(await ensureGitignored(dir, ['results.tsv', '.crucible/runs/', 'run.log'])).toEqual({ changed: false, added: [] });
    expect(gitignore()).toBe('# mine\n  results.tsv  \n*.pyc\n.crucible/runs/\nrun.log\n');
  });

  it('starts a new line when the file does not end with one', async () => {
    writeFileSync(join(dir, '.gitignore'), 'node_modules/');
    await ensureGitignored(dir, ['results.tsv']);
    expect(gitignore()).toBe('node_modules/\nresults.tsv\n');
  });

  it('keeps Windows line endings in a file that uses them', async () => {
    writeFileSync(join(dir, '.gitignore'), 'results.tsv\r\n*.pyc');
    await ensureGitignored(dir, ['results.tsv', 'run.log']);
    expect(gitignore()).toBe('results.tsv\r\n*.pyc\r\nrun.log\r\n');
  });
});
