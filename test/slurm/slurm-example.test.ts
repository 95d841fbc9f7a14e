import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, testGitEnv } from '../helpers/git-repo.js';
import { checkCliBuilt, findInconsistencies, ledgerEvents, runCli, type CliResult, type TinyProject } from '../helpers/project.js';
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.js';

/**
 * The bundled optimize-compress example, tuned with `executor: slurm` and two jobs in flight
 * (`--workers 2`) on the real single-node cluster, its config as shipped otherwise (sandbox,
 * repeats and confirmation at their defaults): the run goes to its end and every read command
 * accepts its records.
 */

const example = fileURLToPath(new URL('../../examples/optimize-compress/', import.meta.url));
let cluster: SlurmCluster;
let project: TinyProject;
const results: Record<string, CliResult> = {};
let problems: string[] = [];

describe(`optimize-compress on Slurm with two jobs in flight${slurmSkipReason}`, () => {
  beforeAll(async () => {
    if (slurmSkipReason) return;
    checkCliBuilt();
    cluster = startSlurmCluster();
    const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-slurm-example-')));
    const dir = path.join(root, 'proj');
    cpSync(example, dir, { recursive: true });
    // Switching to Slurm is one key.
    const config = path.join(dir, '.crucible', 'config.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}\nexecutor:\n  type: slurm\n  slurm:\n    poll_seconds: 0.2\n`);
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'initial');
    writeFileSync(path.join(dir, 'notes.txt'), 'my notes\n');
    project = { root, dir, ctl: root, env: { ...testGitEnv, NO_COLOR: '1', SLURM_CONF: cluster.env['SLURM_CONF'], CRUCIBLE_WORKTREE_DIR: path.join(root, 'worktrees') }, cleanup: () => rmSync(root, { recursive: true, force: true }) };
    const opts = { timeoutMs: 300_000 };
    results['run'] = await runCli(project, ['run', '--tag', 'w', '--agent', 'tuner', '-n', '4', '--workers', '2', '--no-interactive'], opts);
    problems = findInconsistencies(project.dir, 'w');
    for (const [name, args] of [
      ['status', ['status', '--tag', 'w', '--json']],
      ['statusText', ['status', '--tag', 'w']],
      ['history', ['history', '--tag', 'w', '--json']],
      ['postmortem', ['postmortem', '--tag', 'w', '--json']],
      ['postmortemText', ['postmortem', '--tag', 'w']],
    ] as const) {
      results[name] = await runCli(project, args, opts);
    }
  }, 420_000);
  afterAll(() => {
    project?.cleanup();
    cluster?.stop();
  });

  it.skipIf(slurmSkipReason !== '')('runs the baseline and four trials to the end, every experiment a job', () => {
    const run = results['run']!;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/reached the limit of \d+ trials/);
    expect(problems).toEqual([]);
    expect(readFileSync(path.join(project.dir, 'notes.txt'), 'utf8')).toBe('my notes\n');
    expect(git(project.dir, 'status', '--porcelain')).toBe('?? notes.txt');
    const events = ledgerEvents(project.dir, 'w');
    const starts = events.filter((e) => e.type === 'run.start');
    expect(starts.length).toBeGreaterThanOrEqual(5);
    expect(starts.every((e) => (e['handle'] as { executor: string }).executor === 'slurm')).toBe(true);
    // Two jobs at once: a trial's job was RUNNING while another's was too.
    const running = new Set<number>();
    let most = 0;
    for (const e of events) {
      if (e.type === 'job.state' && e['state'] === 'RUNNING') running.add(e.n as number);
      if (e.type === 'run.done' || e.type === 'decide') running.delete(e.n as number);
      most = Math.max(most, running.size);
    }
    expect(most).toBe(2);
    expect(execFileSync('squeue', ['-h'], { env: cluster.env, encoding: 'utf8' }).trim()).toBe('');
  });

  it.skipIf(slurmSkipReason !== '')('is read by status, history and postmortem', () => {
    for (const name of ['status', 'statusText', 'history', 'postmortem', 'postmortemText']) {
      expect(results[name]!.code, `${name}: ${results[name]!.stderr}`).toBe(0);
    }
    const status = JSON.parse(results['status']!.stdout) as { total: number; in_flight: unknown[] };
    expect(status.total).toBeGreaterThanOrEqual(4);
    expect(status.in_flight).toEqual([]);
    const history = JSON.parse(results['history']!.stdout) as { trial: number; status: string; metric_value?: number | null }[];
    expect(history.map((r) => r.trial)).toEqual([...history.keys()]);
    expect(history[0]).toMatchObject({ status: 'baseline' });
    expect(history.filter((r) => r.status === 'crash' || r.status === 'interrupted')).toEqual([]);
    expect(results['postmortemText']!.stdout).toMatch(/compression_ratio/);
  });
});
