import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import { createTinyProject, createTwoFileProject, findInconsistencies, killLeftovers, ledgerEvents, planAgent, rowOf, setKnob, type TinyProject } from '../helpers/project.js';

/**
 * Pipelining (parallel.agents = 2 with one slot): the agent prepares the next change while the
 * experiment runs, and the keep rule holds: a change is kept only if it was measured on top of the
 * incumbent it replaces (rebased when the incumbent moved meanwhile, stale when it no longer applies).
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function twoFileProject(): TinyProject {
  return createTwoFileProject('{ agents: 2 }');
}

function order(events: ReturnType<typeof ledgerEvents>, type: string, n: number): number {
  return events.findIndex((e) => e.type === type && e.n === n);
}

describe('pipelining: the agent works while the experiment runs', () => {
  it('proposes trial 2 during trial 1\'s experiment; a change on the same line as a kept one is stale, not a failure', async () => {
    const p = createTinyProject({ agent: 'command', parallel: '{ agents: 2 }', maxRetries: 1 });
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { x: 40, afterRunOf: 1 }, 3: { x: 60 }, 4: { x: 80, afterRunOf: 3 } });
    setKnob(p, 'sleep-ms', 1200);
    // Trial 1's experiment ends only after trial 2's agent has answered, however loaded the machine.
    setKnob(p, 'wait-for.1', 'answered-2');

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 4 });

    const events = ledgerEvents(p.dir, 't');
    // Trial 2's proposal started and finished before trial 1 was decided.
    expect(order(events, 'trial.start', 2)).toBeLessThan(order(events, 'decide', 1));
    expect(order(events, 'agent.done', 2)).toBeLessThan(order(events, 'decide', 1));
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'keep', metric_value: '20' });
    // Started from the baseline, it changes the line trial 1 changed: it cannot be measured on the new incumbent.
    expect(rowOf(p.dir, 't', 2)?.['status']).toBe('stale');
    expect(rowOf(p.dir, 't', 3)).toMatchObject({ status: 'keep', metric_value: '60' });
    expect(rowOf(p.dir, 't', 4)?.['status']).toBe('stale');
    // max_retries 1: two stale trials in a row would have stopped the run were they failures.
    expect(report.reason).toEqual({ kind: 'max-iterations', trials: 4 });
    expect(git(p.dir, 'tag', '--list', 'failed/t/*')).toBe('');
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('X = 60;');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
    // Trial 2 was settled while trial 1's change was in the project folder: its diff is against
    // its own parent, the baseline, not against what the project folder held then.
    const diff = readFileSync(join(p.dir, '.crucible', 'runs', 't', 'trials', '2', 'diff.patch'), 'utf8');
    expect(diff).toContain('-export const X = 1; // @tune');
    expect(diff).toContain('+export const X = 40; // @tune');
    expect(diff).not.toContain('X = 20;');
  });

  it('rebases a change made on an older incumbent and measures it on top of the new one', async () => {
    const p = twoFileProject();
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { write: { 'extra.js': 'export const Y = 5;\n' }, afterRunOf: 1 } });
    setKnob(p, 'sleep-ms', 1200);
    setKnob(p, 'wait-for.1', 'answered-2');

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 });

    const events = ledgerEvents(p.dir, 't');
    const baseline = git(p.dir, 'rev-parse', 'main');
    const one = events.find((e) => e.type === 'commit' && e.n === 1)?.['sha'] as string;
    const rebase = events.find((e) => e.type === 'rebase' && e.n === 2);
    expect(events.find((e) => e.type === 'trial.start' && e.n === 2)?.['parent']).toBe(baseline);
    expect(rebase?.['onto']).toBe(one);
    // Measured with both changes: 20 + 5, better than trial 1's 20.
    expect(rowOf(p.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '25' });
    expect(git(p.dir, 'rev-parse', 'crucible/t~1')).toBe(one);
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(rebase?.['sha']);
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('X = 20;');
    expect(git(p.dir, 'show', 'crucible/t:extra.js')).toContain('Y = 5;');
    const end = events.find((e) => e.type === 'trial.end' && e.n === 2)?.['summary'] as { parent: string; base: string };
    expect(end).toMatchObject({ parent: baseline, base: one });
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});

describe('slots: experiments side by side (parallel.workers = 2)', () => {
  it('a result measured on an outdated base is measured again on the incumbent, never kept as it was', async () => {
    const p = twoFileProject();
    project = p;
    const config = `${p.dir}/.crucible/config.yaml`;
    writeFileSync(config, readFileSync(config, 'utf8').replace('parallel: { agents: 2 }', 'parallel: { workers: 2, agents: 2 }'));
    git(p.dir, 'commit', '-qam', 'two workers');
    planAgent(p, { 1: { x: 20 }, 2: { write: { 'extra.js': 'export const Y = 5;\n' }, afterRunOf: 1 } });
    // Trial 1 takes long: trial 2 is kept while it runs, so trial 1's base is outdated when it
    // ends (2.5 s after trial 2's agent answered, however long that took on a loaded machine).
    setKnob(p, 'sleep-ms.1', 2500);
    setKnob(p, 'wait-for.1', 'answered-2');

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 });

    const events = ledgerEvents(p.dir, 't');
    const slots = events.filter((e) => e.type === 'run.start').map((e) => [e.n, e['slot']]);
    expect(slots).toEqual(expect.arrayContaining([[0, 1], [1, expect.any(Number)], [2, expect.any(Number)]]));
    expect(new Set(slots.filter(([n]) => n === 1 || n === 2).map(([, slot]) => slot)).size).toBe(2);
    expect(rowOf(p.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '6' });
    // Better than its base (1) but measured without trial 2's change: not kept as it was...
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'stale', metric_value: '20' });
    // ...but measured again on the incumbent, as trial 3, which names it.
    expect(events.find((e) => e.type === 'trial.start' && e.n === 3)?.['remeasureOf']).toBe(1);
    expect(rowOf(p.dir, 't', 3)).toMatchObject({ status: 'keep', metric_value: '25' });
    expect(report.trials).toBe(3);
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('X = 20;');
    expect(git(p.dir, 'show', 'crucible/t:extra.js')).toContain('Y = 5;');
    // The project folder moved only to incumbents; the slots are gone.
    expect(existsSync(`${p.dir}/.crucible/slots/1`)).toBe(false);
    expect(git(p.dir, 'status', '--porcelain', '--untracked-files=all').split('\n').filter((l) => l.includes('.crucible/'))).toEqual([]);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });

  it('with agents unset and turns long against the experiments, keeps more proposals going (up to 2 × workers)', async () => {
    const p = createTinyProject({ agent: 'command', parallel: '{ workers: 2 }' });
    project = p;
    const plan: Record<number, { x: number; sleepMs: number }> = {};
    for (let n = 1; n <= 12; n++) plan[n] = { x: 10 + n, sleepMs: 700 };
    planAgent(p, plan);
    setKnob(p, 'sleep-ms', 50);

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 12 });

    // The most trials in flight at once, from the ledger: N + 1 = 3 before any pace is known; the
    // turns (about 0.7 s) are many times an experiment (about 0.1 s), so the limit rises to 2N = 4.
    let inFlight = 0;
    let most = 0;
    for (const e of ledgerEvents(p.dir, 't')) {
      if (e.type === 'trial.start' && e['baseline'] !== true) most = Math.max(most, ++inFlight);
      if (e.type === 'trial.end' && e.n !== 0) inFlight--;
    }
    expect(most).toBe(4);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
