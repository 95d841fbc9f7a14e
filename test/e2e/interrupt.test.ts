import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPython } from '../../src/runner/python-spawn-host.js';
import { git } from '../helpers/git-repo.js';
import {
  checkCliBuilt,
  createTinyProject,
  experimentPids,
  findInconsistencies,
  isPidAlive,
  isProcessAlive,
  killLeftovers,
  planAgent,
  readFilesOf,
  resultRows,
  rowOf,
  runCli,
  setKnob,
  startCli,
  waitUntil,
  type CliProcess,
  type TinyProject,
} from '../helpers/project.js';

/** Trial-lifecycle property 4: Ctrl+C once finishes the trial, twice reverts it; both leave a clean run. */

const PLAN = { 1: { x: 20 }, 2: { x: 40 }, 3: { x: 60 } };
let project: TinyProject | undefined;
let cli: CliProcess | undefined;

beforeAll(() => checkCliBuilt());
afterEach(async () => {
  if (cli) {
    cli.child.kill('SIGKILL');
    await cli.done;
  }
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
  cli = undefined;
});

/** Starts `crucible run -n 3` and resolves once trial 1's experiment is running. */
async function startAndReachTrialOne(options: { detached?: boolean } = {}): Promise<{ p: TinyProject; run: CliProcess; base: string }> {
  const p = createTinyProject({ agent: 'command' });
  project = p;
  planAgent(p, PLAN);
  setKnob(p, 'sleep-ms', 800);
  const base = git(p.dir, 'rev-parse', 'HEAD');
  const run = startCli(p, ['run', '--tag', 't', '-n', '3'], options);
  cli = run;
  await waitUntil(() => experimentPids(p).some((e) => e.trial === '1'), "trial 1's experiment");
  return { p, run, base };
}

/** The next run starts without anything to recover and leaves a consistent run. */
async function expectCleanNextRun(p: TinyProject): Promise<void> {
  setKnob(p, 'sleep-ms', null);
  const next = await runCli(p, ['run', '--tag', 't', '-n', '1']);
  expect(next.code, next.stderr).toBe(0);
  expect(next.stderr).not.toMatch(/Recovered|repaired|warning/);
  expect(findInconsistencies(p.dir, 't')).toEqual([]);
}

describe('Ctrl+C', () => {
  it('once: the trial in progress completes and is recorded, then the run stops with 130', async () => {
    const { p, run } = await startAndReachTrialOne();
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('Stopping after the current trial');
    expect(result.stderr).toMatch(/Stopped: interrupted/);
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'keep', metric_value: '20' });
    expect(resultRows(p.dir, 't')).toHaveLength(2);
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('X = 20;');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
    await expectCleanNextRun(p);
    expect(rowOf(p.dir, 't', 2)?.['status']).toBe('keep');
  });

  it('once at a terminal, which signals crucible’s whole process group: the trial in progress still completes', async () => {
    const { p, run } = await startAndReachTrialOne({ detached: true });
    // What a terminal's Ctrl+C does: SIGINT to every process of the foreground group, the spawn
    // host among them (the commands lead sessions of their own).
    process.kill(-run.child.pid!, 'SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/Stopped: interrupted/);
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'keep', metric_value: '20' });
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });

  it('twice: the experiment is stopped, the commit reverted and the trial recorded as stopped', async () => {
    const { p, run, base } = await startAndReachTrialOne();
    const experiment = experimentPids(p).find((e) => e.trial === '1')!;
    run.child.kill('SIGINT');
    await waitUntil(() => run.stderr().includes('Stopping after the current trial'), 'the first Ctrl+C to be seen');
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('Stopping now');
    expect(isProcessAlive(experiment)).toBe(false);
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('stopped');
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(base);
    expect(readFilesOf(p.dir, ['solution.js'])['solution.js']).toContain('X = 1;');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
    await expectCleanNextRun(p);
    expect(rowOf(p.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '40' });
  });

  it('SIGTERM acts like Ctrl+C twice: the trial is reverted and recorded as stopped, exit 130', async () => {
    const { p, run, base } = await startAndReachTrialOne();
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('stopped');
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(base);
    await expectCleanNextRun(p);
  });
});

describe('Ctrl+C with two experiments in flight (two slots)', () => {
  /** Starts a run with two slots and resolves once trials 1 and 2 both have their experiment running. */
  async function startTwo(): Promise<{ p: TinyProject; run: CliProcess; base: string }> {
    const p = createTinyProject({ agent: 'command', parallel: '{ workers: 2, agents: 2 }' });
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { x: 40 }, 3: { x: 60 } });
    setKnob(p, 'sleep-ms', 1500);
    setKnob(p, 'sleep-ms.0', null);
    const base = git(p.dir, 'rev-parse', 'HEAD');
    const run = startCli(p, ['run', '--tag', 't', '-n', '3']);
    cli = run;
    await waitUntil(() => experimentPids(p).filter((e) => e.trial === '1' || e.trial === '2').length === 2, 'two experiments running');
    return { p, run, base };
  }

  it('once: both experiments finish and are recorded, nothing new starts', async () => {
    const { p, run } = await startTwo();
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(resultRows(p.dir, 't').map((r) => r['trial']).sort()).toEqual(['0', '1', '2']);
    expect(rowOf(p.dir, 't', 1)?.['status']).not.toBe('stopped');
    expect(rowOf(p.dir, 't', 2)?.['status']).not.toBe('stopped');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });

  it('twice: both experiments are stopped, each recorded as stopped, nothing applied', async () => {
    const { p, run, base } = await startTwo();
    const experiments = experimentPids(p).filter((e) => e.trial === '1' || e.trial === '2');
    run.child.kill('SIGINT');
    await waitUntil(() => run.stderr().includes('Stopping after the current trial'), 'the first Ctrl+C to be seen');
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    for (const e of experiments) expect(isProcessAlive(e)).toBe(false);
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('stopped');
    expect(rowOf(p.dir, 't', 2)?.['status']).toBe('stopped');
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(base);
    expect(readFilesOf(p.dir, ['solution.js'])['solution.js']).toContain('X = 1;');
    expect(git(p.dir, 'worktree', 'list')).not.toContain('.crucible/slots');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});

/** The spawn host a process started: the child of `parent` that names itself so. */
function hostOf(parent: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('crucible spawn host')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe.skipIf(process.platform !== 'linux' || findPython() === null)('the Python spawn host when crucible dies (decisions 64)', () => {
  it('hostile: crucible killed outright mid-experiment leaves no socket folder behind', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { x: 20 } });
    setKnob(p, 'sleep-ms', 3000);
    const run = startCli(p, ['run', '--tag', 't', '-n', '1'], { env: { CRUCIBLE_SPAWN_HOST: 'python' } });
    cli = run;
    await waitUntil(() => experimentPids(p).some((e) => e.trial === '1'), "trial 1's experiment");
    const host = hostOf(run.child.pid!);
    expect(host).toBeDefined();
    // Its last argument is the socket crucible listens on.
    const folder = path.dirname(readFileSync(`/proc/${host!}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1)!);
    expect(existsSync(folder)).toBe(true);
    // SIGKILL: none of crucible's cleanup runs; the host sees its input end.
    run.child.kill('SIGKILL');
    await run.done;
    await waitUntil(() => !isPidAlive(host!), 'the host to end');
    expect(existsSync(folder)).toBe(false);
  });
});
