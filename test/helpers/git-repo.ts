import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGit, type Git } from '../../src/workspace/git.js';

/**
 * Test repositories. `makeGitRepo({ 'a.py': 'x = 1\n', 'src/b.py': '' })` creates a temp folder
 * (real path, so it compares equal to what git and realpath return) holding a git repository on
 * branch `main` with those files in one commit, "initial". Call `cleanup()` in afterEach/finally.
 *
 * The repository has no identity in its config: commands here pass one through the environment
 * (`testGitEnv`), so code under test sees whatever identity the machine has.
 */

export interface TestRepo {
  dir: string;
  cleanup(): void;
}

/** Identity and safety settings for git run by tests: no signing, no global hooks, no prompts. */
export const testGitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_TERMINAL_PROMPT: '0',
};

export function makeGitRepo(files: Record<string, string>, options: { prefix?: string } = {}): TestRepo {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), options.prefix ?? 'crucible-test-')));
  writeFiles(dir, files);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', 'initial');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs git in `dir` with the test identity and returns its trimmed stdout; throws on failure. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', '-c', 'gc.auto=0', ...args], {
    cwd: dir,
    env: testGitEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** Writes files (creating folders) relative to `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/**
 * A repository on branch `run` with two commits (`first`, then `second`, which changed a.txt),
 * a Git on it, and the same Git counting its processes: `calls` holds each one's arguments.
 */
export function makeRunBranchRepo(): { repo: TestRepo; dir: string; first: string; second: string; real: Git; counted: Git; calls: string[][] } {
  const repo = makeGitRepo({ 'a.txt': 'one\n' });
  const dir = repo.dir;
  git(dir, 'switch', '-q', '-c', 'run');
  const first = git(dir, 'rev-parse', 'HEAD');
  writeFileSync(path.join(dir, 'a.txt'), 'two\n');
  git(dir, 'commit', '-q', '-am', 'second');
  const second = git(dir, 'rev-parse', 'HEAD');
  const real = createGit(dir, { env: testGitEnv });
  const calls: string[][] = [];
  const counted: Git = { ...real, cwd: real.cwd, run: (args, options) => (calls.push([...args]), real.run(args, options)) };
  return { repo, dir, first, second, real, counted, calls };
}

/**
 * A `git` on PATH, in its own folder under `dir`, that logs each process started through it:
 * `env` (testGitEnv with it first on PATH), the lines logged since the last `clear()`.
 */
export function loggingGit(dir: string): { env: NodeJS.ProcessEnv; calls(): string[]; clear(): void } {
  const bin = path.join(dir, 'logging-git');
  const log = path.join(bin, 'calls');
  mkdirSync(bin, { recursive: true });
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(path.join(bin, 'git'), `#!/bin/sh\necho "$*" >> "${log}"\nexec "${realGit}" "$@"\n`, { mode: 0o755 });
  return {
    env: { ...testGitEnv, PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}` },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    clear: () => rmSync(log, { force: true }),
  };
}
