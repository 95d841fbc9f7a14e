import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import {
  checkCliBuilt,
  cliPath,
  createTinyProject,
  experimentPids,
  findInconsistencies,
  killLeftovers,
  planAgent,
  runCli,
  setKnob,
  startCli,
  waitUntil,
  type CliResult,
  type TinyProject,
} from '../helpers/project.js';

/**
 * Issue 7, class 11: a hard failure of the machine (a full disk, a read-only or immutable
 * results.tsv, a file size limit, a stale git lock) gets one clear line naming the file, a
 * documented exit code (74), no stack trace; and the run's cleanup (last ledger line, lock,
 * agent worktree) runs whatever fails, reporting the first error.
 *
 * Tests run as root here, where a chmod does not stop a write: the kernel is made to refuse
 * instead (a tmpfs or a read-only bind mount in a private mount namespace, `chattr +i`, a folder
 * where a file should be, RLIMIT_FSIZE). Each test that needs a facility skips, saying why, when
 * the machine does not offer it.
 */

const STORAGE_EXIT = 74;
let project: TinyProject | undefined;
const extraCleanup: Array<() => void> = [];

beforeAll(() => checkCliBuilt());
afterEach(() => {
  for (const step of extraCleanup.splice(0)) step();
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function errorLines(result: { stderr: string }): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('error:'));
}

function expectOneClearLine(result: { stderr: string }): string {
  const errors = errorLines(result);
  expect(errors, result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at |internal error|a bug in crucible/);
  return errors[0]!;
}

/** Whether this machine lets us mount a tmpfs in a private mount namespace (root, or a user namespace). */
function probeMountNamespace(): string | null {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-probe-'));
  try {
    const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$1"', 'sh', dir], { encoding: 'utf8' });
    if (probe.error) return `unshare is not available (${probe.error.message})`;
    return probe.status === 0 ? null : `cannot mount in a private mount namespace: ${probe.stderr.trim()}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function probeImmutable(): string | null {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-probe-'));
  const file = path.join(dir, 'f');
  writeFileSync(file, '');
  try {
    const set = spawnSync('chattr', ['+i', file], { encoding: 'utf8' });
    if (set.error) return `chattr is not available (${set.error.message})`;
    if (set.status !== 0) return `chattr +i is not supported here: ${set.stderr.trim()}`;
    spawnSync('chattr', ['-i', file]);
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function probePrlimit(): string | null {
  const probe = spawnSync('prlimit', ['--fsize=1000000', 'true'], { encoding: 'utf8' });
  if (probe.error) return `prlimit is not available (${probe.error.message})`;
  return probe.status === 0 ? null : `prlimit cannot set RLIMIT_FSIZE: ${probe.stderr.trim()}`;
}

const noMountNamespace = probeMountNamespace();
const noImmutable = probeImmutable();
const noPrlimit = probePrlimit();

/**
 * Runs `script` (sh) in a private mount namespace with the project's environment plus `vars`;
 * what it mounts disappears with it, so it copies what the test inspects to `$OUT`.
 */
function inMountNamespace(p: TinyProject, script: string, vars: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    cwd: p.root,
    env: { ...p.env, ...vars, CLI: cliPath, NODE: process.execPath },
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { status: result.status, stderr: result.stderr };
}

/** The run's lock files and crucible's agent worktrees: none may outlive `crucible run`. */
function leftovers(dir: string): string[] {
  const found: string[] = [];
  for (const lock of [path.join('.crucible', 'runs', 'lock'), path.join('.crucible', 'runs', 't', 'lock')]) {
    if (existsSync(path.join(dir, lock))) found.push(lock);
  }
  const worktrees = path.join(dir, '.git', 'worktrees');
  if (existsSync(worktrees) && readdirSync(worktrees).length > 0) found.push(`.git/worktrees/${readdirSync(worktrees).join(',')}`);
  return found;
}

/** What is left in the folder of agent worktrees the tests point crucible at (CRUCIBLE_WORKTREE_DIR). */
function worktreesLeft(p: TinyProject): string[] {
  const dir = path.join(p.root, 'worktrees');
  return existsSync(dir) ? readdirSync(dir).filter((e) => !e.startsWith('.')) : [];
}

/** The tiny project's config with a run command that fills the disk after trial `fillAt`'s experiment. */
function fillingConfig(): string {
  return [
    'name: tiny',
    'files:',
    '  editable: [solution.js]',
    '  readonly: [package.json]',
    '  hidden: [evaluate.js]',
    'commands:',
    // The experiment measures, then (in the trial named by ctl/fill) writes zeros until the disk is full.
    // (Experiments only see the variables they are given: the test's own must be passed.)
    '  run: node evaluate.js > run.log 2>&1; if [ "$CRUCIBLE_TRIAL" = "$(cat "$CRUCIBLE_TEST_CTL/fill" 2>/dev/null)" ]; then cat /dev/zero > filler.bin 2>/dev/null; fi; true',
    '  eval: cat run.log',
    '  pass_env: [CRUCIBLE_TEST_CTL]',
    'metric:',
    '  name: score',
    '  direction: maximize',
    'constraints:',
    '  timeout_seconds: 20',
    'agent:',
    '  type: command',
    '  command: node "$CRUCIBLE_TEST_AGENT"',
    '  timeout_seconds: 20',
    '',
  ].join('\n');
}

describe('a full disk', () => {
  it.skipIf(noMountNamespace !== null)(`mid-run: exit 74, one line naming the file, lock released and worktree removed${noMountNamespace ? ` (skipped: ${noMountNamespace})` : ''}`, () => {
    const p = createTinyProject({ agent: 'command', configText: fillingConfig() });
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { x: 40 }, 3: { x: 60 }, 4: { x: 80 }, 5: { x: 90 } });
    writeFileSync(path.join(p.ctl, 'fill'), '2');
    git(p.dir, 'add', '-A');
    git(p.dir, 'commit', '-q', '-m', 'filling run command');
    cpSync(p.dir, path.join(p.root, 'proj-src'), { recursive: true });
    const out = path.join(p.root, 'out');
    mkdirSync(out);
    // The project lives on a 4 MB tmpfs; the agent's worktree and the test's knobs stay outside it.
    const script = [
      'set -u',
      'mount -t tmpfs -o size=4m tmpfs "$ROOT/proj"',
      'cp -a "$ROOT/proj-src/." "$ROOT/proj/"',
      'cd "$ROOT/proj"',
      '"$NODE" "$CLI" run --tag t -n 5 >"$OUT/stdout" 2>"$OUT/stderr"; echo $? >"$OUT/rc"',
      'df -k . | tail -1 >"$OUT/df"',
      'rm -f filler.bin',
      'mkdir "$OUT/after" && cp -a . "$OUT/after/"',
      // Space freed: the next run resumes where this one stopped.
      'rm "$CRUCIBLE_TEST_CTL/fill"',
      '"$NODE" "$CLI" run --tag t -n 1 >"$OUT/stdout2" 2>"$OUT/stderr2"; echo $? >"$OUT/rc2"',
      'mkdir "$OUT/resumed" && cp -a . "$OUT/resumed/"',
    ].join('\n');
    const ns = inMountNamespace(p, script, { ROOT: p.root, OUT: out });
    expect(ns.status, ns.stderr).toBe(0);
    const result = { stderr: readFileSync(path.join(out, 'stderr'), 'utf8') };
    expect(readFileSync(path.join(out, 'rc'), 'utf8').trim(), result.stderr).toBe(String(STORAGE_EXIT));
    const line = expectOneClearLine(result);
    expect(line).toMatch(/no space left on device/i);
    // It names a file on the full disk, in the project.
    expect(line).toMatch(/(\.crucible\/runs\/t\/|results\.tsv|\.git\/)/);
    expect(result.stderr).toMatch(/free (some )?space/i);
    const after = path.join(out, 'after');
    expect(leftovers(after)).toEqual([]);
    expect(worktreesLeft(p)).toEqual([]);
    const stderr2 = readFileSync(path.join(out, 'stderr2'), 'utf8');
    expect(readFileSync(path.join(out, 'rc2'), 'utf8').trim(), stderr2).toBe('0');
    expect(findInconsistencies(path.join(out, 'resumed'), 't')).toEqual([]);
  });
});

describe('a file size limit (RLIMIT_FSIZE): every later write to the ledger fails too', () => {
  it.skipIf(noPrlimit !== null)(`the first error is reported, the last ledger line's failure does not hide it, the lock and the worktree are cleaned up${noPrlimit ? ` (skipped: ${noPrlimit})` : ''}`, async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { x: 40 }, 3: { x: 60 }, 4: { x: 80 }, 5: { x: 90 }, 6: { x: 95 } });
    const first = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(first.code, first.stderr).toBe(0);
    const ledger = path.join(p.dir, '.crucible', 'runs', 't', 'ledger.jsonl');
    // The ledger may grow by a little more than a trial: the next trials hit the limit there.
    const limit = readFileSync(ledger).length + 1500;
    const result = await runPrlimited(p, limit, ['run', '--tag', 't', '-n', '5']);
    expect(result.code, result.stderr).toBe(STORAGE_EXIT);
    const line = expectOneClearLine(result);
    expect(line).toMatch(/file too large for the file size limit \(EFBIG\)/);
    expect(line).toContain(path.join('.crucible', 'runs', 't', 'ledger.jsonl'));
    expect(result.stderr).toMatch(/ulimit -f/);
    // The session's last ledger line could not be written either: the session ended without it.
    const text = readFileSync(ledger, 'utf8');
    expect(text.endsWith('\n')).toBe(false); // the limit cut the first failing line short
    const types = text.slice(0, text.lastIndexOf('\n')).split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types.filter((t) => t === 'session.end')).toHaveLength(1); // the first session's only
    expect(leftovers(p.dir)).toEqual([]);
    expect(worktreesLeft(p)).toEqual([]);
    // A run without the limit resumes from there.
    const again = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('repaired the ledger');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});

function runPrlimited(p: TinyProject, bytes: number, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const result = spawnSync('prlimit', [`--fsize=${bytes}`, process.execPath, cliPath, ...args], { cwd: p.dir, env: p.env, encoding: 'utf8', timeout: 60_000 });
    resolve({ code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr });
  });
}

describe('results.tsv cannot be written', () => {
  it.skipIf(noMountNamespace !== null)(`on a read-only mount: exit 74, one line naming results.tsv and the read-only file system${noMountNamespace ? ` (skipped: ${noMountNamespace})` : ''}`, async () => {
    const p = createTinyProject();
    project = p;
    const first = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(first.code, first.stderr).toBe(0);
    const before = readFileSync(path.join(p.dir, 'results.tsv'), 'utf8');
    const out = path.join(p.root, 'out');
    mkdirSync(out);
    const script = [
      'set -u',
      'cd "$ROOT/proj"',
      'mount --bind results.tsv results.tsv && mount -o remount,ro,bind results.tsv',
      '"$NODE" "$CLI" run --tag t -n 1 >"$OUT/stdout" 2>"$OUT/stderr"; echo $? >"$OUT/rc"',
    ].join('\n');
    const ns = inMountNamespace(p, script, { ROOT: p.root, OUT: out });
    expect(ns.status, ns.stderr).toBe(0);
    const result = { stderr: readFileSync(path.join(out, 'stderr'), 'utf8') };
    expect(readFileSync(path.join(out, 'rc'), 'utf8').trim(), result.stderr).toBe(String(STORAGE_EXIT));
    const line = expectOneClearLine(result);
    expect(line).toContain('results.tsv');
    expect(line).toMatch(/read-only file system/i);
    expect(readFileSync(path.join(p.dir, 'results.tsv'), 'utf8')).toBe(before);
    expect(leftovers(p.dir)).toEqual([]);
  });

  it.skipIf(noImmutable !== null)(`immutable (chattr +i): exit 74, one line naming results.tsv, not allowed${noImmutable ? ` (skipped: ${noImmutable})` : ''}`, async () => {
    const p = createTinyProject();
    project = p;
    const first = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(first.code, first.stderr).toBe(0);
    const file = path.join(p.dir, 'results.tsv');
    expect(spawnSync('chattr', ['+i', file]).status).toBe(0);
    extraCleanup.push(() => void spawnSync('chattr', ['-i', file]));
    const result = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(result.code, result.stderr).toBe(STORAGE_EXIT);
    const line = expectOneClearLine(result);
    expect(line).toContain('results.tsv');
    expect(line).toMatch(/not permitted|permission denied/i);
    expect(leftovers(p.dir)).toEqual([]);
  });

  it('a folder where results.tsv should be: exit 74, one line naming it', async () => {
    const p = createTinyProject();
    project = p;
    mkdirSync(path.join(p.dir, 'results.tsv'));
    const result = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(result.code, result.stderr).toBe(STORAGE_EXIT);
    const line = expectOneClearLine(result);
    expect(line).toContain('results.tsv');
    expect(line).toMatch(/is a folder/i);
    expect(leftovers(p.dir)).toEqual([]);
  });
});

describe('a stale .git/index.lock (left by a killed git)', () => {
  it('stops the run with the right hint (another git may be running; else remove the file) and leaves the lock alone', async () => {
    const p = createTinyProject();
    project = p;
    const lock = path.join(p.dir, '.git', 'index.lock');
    writeFileSync(lock, '');
    const result = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(result.code, result.stderr).toBe(6);
    const line = expectOneClearLine(result);
    expect(line).toContain('index.lock');
    expect(result.stderr).toMatch(/another git process/i);
    expect(result.stderr).toContain(`remove ${lock}`);
    expect(result.stderr).not.toMatch(/stash/i);
    expect(existsSync(lock)).toBe(true);
    expect(leftovers(p.dir)).toEqual([]);
  });

  it('appearing mid-run (a git of the user killed while the experiment ran): the same hint, not "an editable file was changed"', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { x: 40 } });
    // Trial 1's experiment ends only once the lock is in place.
    setKnob(p, 'wait-for.1', 'lock-written');
    const cli = startCli(p, ['run', '--tag', 't', '-n', '3']);
    await waitUntil(() => experimentPids(p).some((e) => e.trial === '1'), 'the experiment of trial 1');
    const lock = path.join(p.dir, '.git', 'index.lock');
    writeFileSync(lock, '');
    setKnob(p, 'lock-written', '');
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(6);
    expectOneClearLine(result);
    expect(result.stderr).toMatch(/another git process/i);
    expect(result.stderr).not.toMatch(/editable file was probably changed|stash/i);
    expect(existsSync(lock)).toBe(true);
    expect(leftovers(p.dir)).toEqual([]);
  });
});
