import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, testGitEnv } from '../helpers/git-repo.js';
import { checkCliBuilt, findInconsistencies, ledgerEvents, runCli, type CliResult, type TinyProject } from '../helpers/project.js';

/**
 * The bundled optimize-sorting example tuned with three experiment slots (`--workers 3`): the run
 * goes to its end, experiments overlap, and every read command accepts its records.
 */

const example = fileURLToPath(new URL('../../examples/optimize-sorting/', import.meta.url));
let project: TinyProject;
const results: Record<string, CliResult> = {};
let problems: string[] = [];

beforeAll(async () => {
  checkCliBuilt();
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-workers-')));
  const dir = path.join(root, 'proj');
  cpSync(example, dir, { recursive: true });
  // The user's own untracked file: crucible must leave it exactly as it is.
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  writeFileSync(path.join(dir, 'notes.txt'), 'my notes\n');
  project = { root, dir, ctl: root, env: { ...testGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(root, 'worktrees') }, cleanup: () => rmSync(root, { recursive: true, force: true }) };
  const opts = { timeoutMs: 240_000 };
  results['run'] = await runCli(project, ['run', '--tag', 'w', '--agent', 'tuner', '-n', '6', '--workers', '3', '--no-interactive'], opts);
  problems = findInconsistencies(project.dir, 'w');
  results['serial'] = await runCli(project, ['run', '--tag', 's', '--agent', 'tuner', '-n', '2', '--no-interactive'], opts);
  for (const [name, args] of [
    ['status', ['status', '--tag', 'w', '--json']],
    ['statusText', ['status', '--tag', 'w']],
    ['history', ['history', '--tag', 'w', '--json']],
    ['postmortem', ['postmortem', '--tag', 'w', '--json']],
    ['postmortemText', ['postmortem', '--tag', 'w']],
    ['compare', ['compare', 'w', 's']],
  ] as const) {
    results[name] = await runCli(project, args, opts);
  }
}, 600_000);
afterAll(() => project?.cleanup());

describe('optimize-sorting with --workers 3 and the tuner', () => {
  it('runs the baseline and six trials to the end', () => {
    const run = results['run']!;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/reached the limit of \d+ trials/);
    expect(problems).toEqual([]);
    expect(readFileSync(path.join(project.dir, 'notes.txt'), 'utf8')).toBe('my notes\n');
  });

  it('runs experiments side by side, each in a slot of its own', () => {
    const events = ledgerEvents(project.dir, 'w');
    const starts = events.filter((e) => e.type === 'run.start');
    expect(new Set(starts.map((e) => e['slot']))).toEqual(new Set([1, 2, 3]));
    // Some experiment started before another one's result was in.
    const overlapped = starts.some((start) => {
      const at = events.indexOf(start);
      return starts.some((other) => other.n !== start.n && events.indexOf(other) < at && events.findIndex((e) => e.type === 'run.done' && e.n === other.n) > at);
    });
    expect(overlapped).toBe(true);
    // The slots are gone and never showed in git status.
    expect(git(project.dir, 'status', '--porcelain')).toBe('?? notes.txt');
  });

  it('is read by status, history, postmortem and compare', () => {
    for (const name of ['serial', 'status', 'statusText', 'history', 'postmortem', 'postmortemText', 'compare']) {
      expect(results[name]!.code, `${name}: ${results[name]!.stderr}`).toBe(0);
    }
    const status = JSON.parse(results['status']!.stdout) as { total: number; in_flight: unknown[] };
    expect(status.total).toBeGreaterThanOrEqual(6);
    expect(status.in_flight).toEqual([]);
    const history = JSON.parse(results['history']!.stdout) as { trial: number; status: string; slot?: number }[];
    expect(history.map((r) => r.trial)).toEqual([...history.keys()]);
    // Every trial that ran an experiment names its slot (a stale one, whose change no longer applied, ran none).
    const measured = history.filter((r) => r.status !== 'stale' && r.status !== 'skip');
    expect(measured.map((r) => r.slot).filter((slot) => slot === undefined || slot < 1 || slot > 3)).toEqual([]);
    expect(results['compare']!.stdout).toMatch(/\bw\b/);
  });
});
