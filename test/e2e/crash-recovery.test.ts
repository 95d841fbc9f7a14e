import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import {
  checkCliBuilt,
  copyProject,
  createTinyProject,
  experimentPids,
  findInconsistencies,
  isProcessAlive,
  killLeftovers,
  ledgerEvents,
  planAgent,
  readFilesOf,
  resultRows,
  rowOf,
  runCli,
  setKnob,
  USER_FILES,
  type AgentStep,
  type TinyProject,
  waitUntil,
} from '../helpers/project.js';

/**
 * Trial-lifecycle property 1: the built CLI SIGKILLs itself right after writing one ledger event
 * of trial 2 (CRUCIBLE_FAULT_KILL_AFTER), then a plain `crucible run` carries on. Whatever the
 * event, the records and the branch agree afterwards and nothing of the user's is touched.
 *
 * One prepared state (baseline + trial 1, kept) is copied for every case: the first session of
 * each case is the rest of `crucible run -n 3`, killed in trial 2.
 */

// The scripted agent sets X; the score is X, maximised: a higher X is a keep, a lower one a discard.
const KEEP_PLAN: Record<number, AgentStep> = { 1: { x: 20 }, 2: { x: 40 }, 3: { x: 60 }, 4: { x: 80 } };
const DISCARD_PLAN: Record<number, AgentStep> = { 1: { x: 20 }, 2: { x: 10 }, 3: { x: 60 }, 4: { x: 5 } };
const WATCHED = ['evaluate.js', 'notes.txt', 'data/x.csv', 'package.json'];

// The events of a kept and of a discarded trial (their order does not matter here: the run is
// killed after each one in turn). A new event type makes the template check below fail.
const KEEP_EVENTS = ['trial.start', 'agent.done', 'guard', 'apply', 'commit', 'run.start', 'run.done', 'decide', 'trial.end'];
// A trial not kept leaves the project folder at its commit until the next move (decisions 71): its
// `reset` comes after its `trial.end`, as crucible goes back while the next agent works.
const DISCARD_EVENTS = [...KEEP_EVENTS, 'reset'];

let template: TinyProject;
const projects: TinyProject[] = [];

beforeAll(async () => {
  checkCliBuilt();
  template = createTinyProject({ agent: 'command' });
  planAgent(template, KEEP_PLAN);
  const first = await runCli(template, ['run', '--tag', 't', '-n', '1']);
  expect(first.code, first.stderr).toBe(0);
  expect(rowOf(template.dir, 't', 1)?.['status']).toBe('keep');
  expect(eventTypesOf(template, 1)).toEqual([...KEEP_EVENTS].sort());
});
afterAll(() => template?.cleanup());
afterEach(() => {
  for (const p of projects.splice(0)) {
    killLeftovers(p);
    p.cleanup();
  }
});

function prepare(plan: Record<number, AgentStep>): { project: TinyProject; before: Record<string, string | null> } {
  const project = copyProject(template);
  projects.push(project);
  planAgent(project, plan);
  return { project, before: readFilesOf(project.dir, WATCHED) };
}

/** The distinct event types of a trial, sorted (run.start comes once per command). */
function eventTypesOf(project: TinyProject, trial: number): string[] {
  return [...new Set(ledgerEvents(project.dir, 't').filter((e) => e.n === trial).map((e) => e.type))].sort();
}

/**
 * What trial 2 must end as once recovered from a kill at this point: its decision when it had
 * one; an evaluation when its commit was the branch head (nobody evaluated it) or was committed
 * and never applied (measured first by the next run); else interrupted (its change never reached
 * the branch, or was half applied).
 */
function expectedOutcome(project: TinyProject, evaluated: string): string {
  const events = ledgerEvents(project.dir, 't').filter((e) => e.n === 2);
  if (events.some((e) => e.type === 'decide')) return evaluated;
  const sha = events.find((e) => e.type === 'commit')?.['sha'];
  if (sha !== undefined && !events.some((e) => e.type === 'apply')) return evaluated;
  return sha !== undefined && git(project.dir, 'rev-parse', 'crucible/t') === sha ? evaluated : 'interrupted';
}

/** Kills the run after `event` of trial 2, resumes it, and checks everything property 1 promises. */
async function killAndResume(event: string, plan: Record<number, AgentStep>, evaluated: string): Promise<void> {
  const { project, before } = prepare(plan);
  const killed = await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: `${event}:2` } });
  expect(killed.signal, killed.stderr).toBe('SIGKILL');
  expect(ledgerEvents(project.dir, 't').at(-1)?.type).toBe(event);
  if (event === 'trial.end') expect(eventTypesOf(project, 2)).toEqual([...KEEP_EVENTS].sort());
  const ended = event === 'trial.end' || event === 'reset';
  // The check below has teeth: a trial cut short is an inconsistency until a run reconciles it.
  if (!ended) expect(findInconsistencies(project.dir, 't')).toContain('trial 2 started but never ended in the ledger');
  // Killed after a discard's record and before its way back: the branch is still at its commit.
  const leftInProject = event === 'trial.end' && evaluated !== 'keep';
  // Its tag waits for that way back, in the same ref transaction (decisions 85).
  if (leftInProject) expect(findInconsistencies(project.dir, 't')).toEqual(expect.arrayContaining([expect.stringMatching(/^commit [0-9a-f]{7} on crucible\/t has no keep row$/), expect.stringMatching(/^discard trial 2 \([0-9a-f]+\) has no tag failed\/t\/2$/)]));
  const expected = expectedOutcome(project, evaluated);

  const resumed = await runCli(project, ['run', '--tag', 't', '-n', '2']);
  expect(resumed.code, resumed.stderr).toBe(0);
  if (!ended) expect(resumed.stderr).toMatch(/Recovered: trial 2 /);
  if (leftInProject) expect(resumed.stderr).toMatch(/Recovered: the project folder still held trial 2's change \(discard\); it is back at [0-9a-f]{7}\./);

  expect(findInconsistencies(project.dir, 't')).toEqual([]);
  expect(rowOf(project.dir, 't', 2)?.['status']).toBe(expected);
  // The run went on after the recovered trial: trials 3 and 4 were run by the second session.
  expect(rowOf(project.dir, 't', 4)).toBeDefined();
  expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
}

describe('SIGKILL after each event of a kept trial, then crucible run', () => {
  it.each(KEEP_EVENTS)('after %s', async (event) => {
    await killAndResume(event, KEEP_PLAN, 'keep');
  });
});

describe('SIGKILL after each event of a discarded trial, then crucible run', () => {
  it.each(DISCARD_EVENTS)('after %s', async (event) => {
    await killAndResume(event, DISCARD_PLAN, 'discard');
  });
});

describe('SIGKILL inside the step that brings the change to the project', () => {
  // The fault hook fires after an event. After `apply`, `git reset --keep <commit>` moves the
  // branch and the editable files; a kill inside it or just after it is made by hand here.
  async function killAfterApply(): Promise<{ project: TinyProject; before: Record<string, string | null>; parent: string; sha: string }> {
    const { project, before } = prepare(KEEP_PLAN);
    await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'apply:2' } });
    const sha = ledgerEvents(project.dir, 't').find((e) => e.n === 2 && e.type === 'commit')?.['sha'];
    expect(typeof sha).toBe('string');
    return { project, before, parent: git(project.dir, 'rev-parse', 'HEAD'), sha: sha as string };
  }

  it('killed halfway: the file holds the new content, the branch has not moved; the file is restored, the trial interrupted', async () => {
    const { project, before, parent } = await killAfterApply();
    writeFileSync(path.join(project.dir, 'solution.js'), 'export const X = 40; // @tune 1..100 int\n');
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('solution.js restored from the branch');
    expect(rowOf(project.dir, 't', 2)?.['status']).toBe('interrupted');
    expect(git(project.dir, 'rev-parse', 'crucible/t~1')).toBe(parent); // trial 3 was built on the parent
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
  });

  it('killed just after it: the branch is at the commit nobody evaluated, which is evaluated now', async () => {
    const { project, before, sha } = await killAfterApply();
    git(project.dir, 'reset', '-q', '--keep', sha);
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('its commit has now been evaluated');
    expect(rowOf(project.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '40' });
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
  });
});

describe('the user edits an editable file after the crash', () => {
  it('the next run stops before measuring anything; once the edit is stashed, the trial is evaluated on its own', async () => {
    const { project } = prepare(DISCARD_PLAN);
    await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'run.done:2' } });
    const mine = 'export const X = 99; // my own idea\n';
    writeFileSync(path.join(project.dir, 'solution.js'), mine);

    const refused = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('uncommitted changes to editable files: solution.js');
    expect(readFilesOf(project.dir, ['solution.js'])['solution.js']).toBe(mine);
    expect(rowOf(project.dir, 't', 2)).toBeUndefined();

    git(project.dir, 'stash', '-q');
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    // Measured on the trial's own change (X = 10), not on the user's edit.
    expect(rowOf(project.dir, 't', 2)).toMatchObject({ status: 'discard', metric_value: '10' });
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    expect(git(project.dir, 'stash', 'show', '-p')).toContain('+export const X = 99; // my own idea');
  });

  it('after a kill inside git reset --keep, a file holding neither version is the user\'s and is left alone', async () => {
    const { project } = prepare(KEEP_PLAN);
    await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'apply:2' } });
    const mine = 'export const X = 77; // typed after the crash\n';
    writeFileSync(path.join(project.dir, 'solution.js'), mine);
    const refused = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(refused.code).toBe(4);
    expect(readFilesOf(project.dir, ['solution.js'])['solution.js']).toBe(mine);
  });
});

describe('SIGKILL during the baseline, then crucible run', () => {
  it.each(['trial.start', 'run.start', 'run.done', 'decide'])('after %s', async (event) => {
    const project = createTinyProject({ agent: 'command' });
    projects.push(project);
    planAgent(project, KEEP_PLAN);
    const before = readFilesOf(project.dir, WATCHED);
    const killed = await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: `${event}:0` } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const rows = resultRows(project.dir, 't');
    // A baseline that had been decided is kept; one cut short is recorded and measured again.
    expect(rows.filter((r) => r['status'] === 'baseline')).toHaveLength(1);
    expect(rows.at(-1)?.['status']).toBe('keep');
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
  });
});

describe('SIGKILL in other trials', () => {
  it('killed again while the recovery evaluates the commit: the next run still evaluates it once', async () => {
    const { project, before } = prepare(KEEP_PLAN);
    await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'run.start:2' } });
    const again = await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'run.done:2' } });
    expect(again.signal).toBe('SIGKILL');
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(rowOf(project.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '40' });
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
  });

  it('after agent.error: the failed proposal is recorded as interrupted', async () => {
    await killAndResume('agent.error', { ...KEEP_PLAN, 2: { fail: true } }, 'agent-error');
  });

  it('a discarded commit is tagged failed and never the branch head', async () => {
    const { project } = prepare(DISCARD_PLAN);
    await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'decide:2' } });
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const failed = git(project.dir, 'rev-parse', 'failed/t/2');
    expect(failed.startsWith(rowOf(project.dir, 't', 2)?.['commit'] ?? '?')).toBe(true);
    expect(git(project.dir, 'rev-parse', 'crucible/t')).not.toBe(failed);
    expect(git(project.dir, 'show', 'crucible/t:solution.js')).toContain('X = 60;');
  });

  it('killed at run.start with a long experiment: the orphan is killed by the next run and the commit evaluated', async () => {
    const { project, before } = prepare(KEEP_PLAN);
    setKnob(project, 'sleep-ms', 20_000);
    const killed = await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'run.start:2' } });
    expect(killed.signal).toBe('SIGKILL');
    // The kill came as the experiment was spawned; it goes on without its parent.
    await waitUntil(() => experimentPids(project).some((p) => p.trial === '2'), 'the orphaned experiment');
    const orphan = experimentPids(project).find((p) => p.trial === '2')!;
    expect(isProcessAlive(orphan)).toBe(true);

    setKnob(project, 'sleep-ms', null);
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(isProcessAlive(orphan)).toBe(false);
    expect(resumed.stderr).toMatch(/trial 2 was interrupted before its experiment finished; its commit has now been evaluated/);
    expect(rowOf(project.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '40' });
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
    expect(before['notes.txt']).toBe(USER_FILES['notes.txt']);
  });
});

describe('SIGKILL on the way back from a trial not kept (decisions 71)', () => {
  it('killed halfway: the file holds the incumbent\'s content, the branch the discarded commit; both go back', async () => {
    const { project, before } = prepare(DISCARD_PLAN);
    const killed = await runCli(project, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'trial.end:2' } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const discarded = rowOf(project.dir, 't', 2)?.['commit'] ?? '?';
    expect(git(project.dir, 'rev-parse', 'crucible/t').startsWith(discarded)).toBe(true);
    // The way back had rewritten the file, and not yet the index or the branch.
    writeFileSync(path.join(project.dir, 'solution.js'), `${git(project.dir, 'show', 'crucible/t~1:solution.js')}\n`);
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/Recovered: the project folder still held trial 2's change \(discard\)/);
    expect(git(project.dir, 'rev-parse', 'crucible/t~1').startsWith(rowOf(project.dir, 't', 1)?.['commit'] ?? '?')).toBe(true);
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
  });
});

describe('SIGKILL as the next change moves in from a trial not kept (decisions 71)', () => {
  // The tuner answers at once: a discarded trial's way back is taken by the next change's move,
  // whose `apply` names where it starts. Seeded, so that two runs propose the same values.
  const TUNER = ['agent:', '  type: tuner', '  tuner:', '    seed: 3'].join('\n');
  function tunerProject(): TinyProject {
    const config = ['name: tiny', 'files:', '  editable: [solution.js]', '  readonly: [package.json]', '  hidden: [evaluate.js]', 'commands:', '  run: node evaluate.js > run.log 2>&1', '  eval: cat run.log', 'metric:', '  name: score', '  direction: maximize', 'constraints:', '  max_retries: 50', TUNER, ''].join('\n');
    const p = createTinyProject({ configText: config });
    projects.push(p);
    return p;
  }

  /** The first trial whose change moved in from a discarded one, in a run of 8 trials. */
  async function firstMergedMove(): Promise<number> {
    const probe = tunerProject();
    const done = await runCli(probe, ['run', '--tag', 't', '-n', '8']);
    expect(done.code, done.stderr).toBe(0);
    expect(findInconsistencies(probe.dir, 't')).toEqual([]);
    const apply = ledgerEvents(probe.dir, 't').find((e) => e.type === 'apply' && typeof e['from'] === 'string');
    expect(apply, 'no change moved in from a discarded trial').toBeDefined();
    const n = apply!.n as number;
    // Its diff is against its parent, not against the discarded change the project folder held.
    const parent = ledgerEvents(probe.dir, 't').find((e) => e.type === 'trial.start' && e.n === n)?.['parent'] as string;
    const was = git(probe.dir, 'show', `${parent}:solution.js`).split('\n')[0];
    const diff = readFileSync(path.join(probe.dir, '.crucible', 'runs', 't', 'trials', String(n), 'diff.patch'), 'utf8');
    expect(diff).toContain(`\n-${was}\n`);
    expect(git(probe.dir, 'show', `${apply!['from'] as string}:solution.js`).split('\n')[0]).not.toBe(was);
    return n;
  }

  async function killAtMergedMove(): Promise<{ project: TinyProject; n: number; sha: string; from: string; before: Record<string, string | null> }> {
    const n = await firstMergedMove();
    const project = tunerProject();
    const before = readFilesOf(project.dir, WATCHED);
    const killed = await runCli(project, ['run', '--tag', 't', '-n', '8'], { env: { CRUCIBLE_FAULT_KILL_AFTER: `apply:${n}` } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    // The same proposals: the move was about to start from a discarded commit, where the branch still is.
    const apply = ledgerEvents(project.dir, 't').at(-1);
    expect(apply).toMatchObject({ type: 'apply', n, from: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const from = apply!['from'] as string;
    expect(git(project.dir, 'rev-parse', 'crucible/t')).toBe(from);
    // Its failed/ tag waits for that move, in the same ref transaction (decisions 85): not there yet.
    const left = ledgerEvents(project.dir, 't').findLast((e) => e.type === 'trial.end' && (e['summary'] as { commit: string }).commit === from)?.n;
    expect(left).toBeDefined();
    expect(git(project.dir, 'tag', '--list', `failed/t/${left}`)).toBe('');
    return { project, n, sha: apply!['sha'] as string, from, before };
  }

  it('killed before the files moved: the branch goes back from the discarded commit, the trial is interrupted', async () => {
    const { project, n, from, before } = await killAtMergedMove();
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/Recovered: the project folder still held trial \d+'s change \(\w+\); it is back at/);
    expect(rowOf(project.dir, 't', n)?.['status']).toBe('interrupted');
    expect(git(project.dir, 'rev-parse', 'crucible/t')).not.toBe(from);
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
  });

  it('killed halfway: the file holds the new change, the branch the discarded one; the file is put back, the branch goes back', async () => {
    const { project, n, sha, from, before } = await killAtMergedMove();
    writeFileSync(path.join(project.dir, 'solution.js'), git(project.dir, 'show', `${sha}:solution.js`) + '\n');
    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(rowOf(project.dir, 't', n)?.['status']).toBe('interrupted');
    expect(git(project.dir, 'rev-parse', 'crucible/t')).not.toBe(from);
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    expect(readFilesOf(project.dir, WATCHED)).toEqual(before);
  });
});
