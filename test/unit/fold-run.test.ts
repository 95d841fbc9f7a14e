import { describe, expect, it } from 'vitest';
import type { Direction } from '../../src/core/objective.js';
import { foldRun, READ_AFTER_END, type RunView } from '../../src/store/fold-run.js';
import type { LedgerEvent } from '../../src/store/ledger.js';
import { baseline, ev, header, parallelTrial, prng, randomLedger, randomParallelLedger, sha, steps, summaryOf, trial } from '../helpers/ledger-events.js';

const brief = (view: RunView) => ({
  trials: view.trials.map((node) => [node.trial, node.finished ? node.outcome : node.phase]),
  incumbent: view.incumbent?.trial ?? null,
  inFlight: view.inFlight.map((node) => node.trial),
  nextTrial: view.nextTrial,
});

describe('foldRun', () => {
  const serial = [...header, ...baseline(10), ...trial(1, sha(1), 'keep', 12), ...trial(2, sha(101), 'discard', 11), ...trial(3, sha(101), 'crash', null), ...trial(4, sha(101), 'skip', null)];
  const cases: Array<[string, LedgerEvent[], Direction | undefined, ReturnType<typeof brief>]> = [
    ['an empty ledger', [], 'maximize', { trials: [], incumbent: null, inFlight: [], nextTrial: 0 }],
    ['a serial run: the last keep is the incumbent', serial, 'maximize', { trials: [[0, 'baseline'], [1, 'keep'], [2, 'discard'], [3, 'crash'], [4, 'skip']], incumbent: 1, inFlight: [], nextTrial: 5 }],
    ['minimize: the baseline stays the incumbent', serial, 'minimize', { trials: [[0, 'baseline'], [1, 'keep'], [2, 'discard'], [3, 'crash'], [4, 'skip']], incumbent: 0, inFlight: [], nextTrial: 5 }],
    ['no direction: no incumbent', serial, undefined, { trials: [[0, 'baseline'], [1, 'keep'], [2, 'discard'], [3, 'crash'], [4, 'skip']], incumbent: null, inFlight: [], nextTrial: 5 }],
    ['a tie: the earlier node stays the incumbent', [...baseline(10), ...trial(1, sha(1), 'keep', 10)], 'maximize', { trials: [[0, 'baseline'], [1, 'keep']], incumbent: 0, inFlight: [], nextTrial: 2 }],
    ['the agent at work', [...baseline(10), steps.start(1, sha(1))], 'maximize', { trials: [[0, 'baseline'], [1, 'agent']], incumbent: 0, inFlight: [1], nextTrial: 2 }],
    ['a commit not yet measured waits for a slot', [...baseline(10), steps.start(1, sha(1)), steps.agent(1), ...steps.commit(1, sha(1))], 'maximize', { trials: [[0, 'baseline'], [1, 'queued']], incumbent: 0, inFlight: [1], nextTrial: 2 }],
    ['an experiment running', [...baseline(10), steps.start(1, sha(1)), steps.agent(1), ...steps.commit(1, sha(1)), steps.run(1)], 'maximize', { trials: [[0, 'baseline'], [1, 'running']], incumbent: 0, inFlight: [1], nextTrial: 2 }],
    [
      'decided, not recorded: not the incumbent yet',
      [...baseline(10), ...trial(1, sha(1), 'keep', 12).slice(0, -1)],
      'maximize',
      { trials: [[0, 'baseline'], [1, 'decided']], incumbent: 0, inFlight: [1], nextTrial: 2 },
    ],
    ['a baseline being measured', [ev('trial.start', { n: 0, parent: sha(1), baseline: true })], 'maximize', { trials: [[0, 'queued']], incumbent: null, inFlight: [0], nextTrial: 1 }],
    [
      'a trial recovered by the next run: its last record counts',
      [...baseline(10), steps.start(1, sha(1)), steps.end(1, 'interrupted', null, ''), steps.end(1, 'keep', 15)],
      'maximize',
      { trials: [[0, 'baseline'], [1, 'keep']], incumbent: 1, inFlight: [], nextTrial: 2 },
    ],
    ['a record without its start (a hand-edited ledger)', [steps.end(3, 'discard', 1)], 'maximize', { trials: [[3, 'discard']], incumbent: null, inFlight: [], nextTrial: 4 }],
    [
      'unknown and unusable events are skipped',
      [...baseline(10), ev('dashboard.opened', { n: 4 }), ev('commit', { sha: 'x' }), ev('trial.end', { n: 1 }), ev('decide', { n: 2, outcome: 'great' })],
      'maximize',
      { trials: [[0, 'baseline']], incumbent: 0, inFlight: [], nextTrial: 1 },
    ],
    ['a crash with a stray metric never holds the best', [...baseline(10), ...trial(1, sha(1), 'crash', 99)], 'maximize', { trials: [[0, 'baseline'], [1, 'crash']], incumbent: 0, inFlight: [], nextTrial: 2 }],
  ];
  it.each(cases)('%s', (_name, events, direction, expected) => {
    expect(brief(foldRun(events, direction ? { direction } : {}))).toEqual(expected);
  });

  it('keeps, for each trial in flight, the steps a recovery reconciles; none once it is recorded', () => {
    const twoRuns = [steps.run(1), ev('run.start', { n: 1, sha: sha(201), slot: 2, handle: { executor: 'slurm', jobId: '42', name: 'j', dir: '/d' } })];
    const inFlight = [...baseline(10), steps.start(1, sha(1)), steps.agent(1), ...steps.commit(1, sha(1)), ev('rebase', { n: 1, onto: sha(9), sha: sha(201) }), ...twoRuns, ev('decide', { n: 1, outcome: 'crash', metric: null, best: 10, reason: 'r', crashReport: 'boom' })];
    const node = foldRun(inFlight).inFlight[0]!;
    expect(node.steps).toEqual({
      files: ['a.js'],
      change: sha(201),
      applied: { sha: sha(101), files: ['a.js'] },
      runs: [
        { handle: { executor: 'local', pgid: 5001, processTag: 't-1' }, slot: null },
        { handle: { executor: 'slurm', jobId: '42', name: 'j', dir: '/d' }, slot: 2 },
      ],
      decision: { outcome: 'crash', metric: null, reason: 'r', crashReport: 'boom' },
    });
    expect(node.base).toBe(sha(9));
    expect(foldRun([...inFlight, steps.end(1, 'crash', null)]).trials[1]!.steps).toBeNull();
    expect(foldRun([...baseline(10), steps.start(2, sha(1))]).inFlight[0]!.steps).toBeNull();
  });

  it('gives each node its parent, base, commit, record and times', () => {
    const one = trial(1, sha(1), 'keep', 12);
    const view = foldRun([...header, ...baseline(10), ...one], { direction: 'maximize' });
    expect(view.trials[1]).toMatchObject({ trial: 1, parent: sha(1), base: sha(1), baseline: false, finished: true, phase: null, outcome: 'keep', metric: 12, commit: sha(101), description: 'trial 1', agentMs: 10, runMs: 20, totalMs: 40, startedAt: one[0]!.ts, endedAt: 'at-1', handles: [] });
    expect(view.trials[0]).toMatchObject({ baseline: true, parent: sha(1), commit: sha(1) });
    expect(view.history.map((s) => s.trial)).toEqual([0, 1]);
    expect(view.created).toEqual({ tag: 't', branch: 'crucible/t', from: sha(1), forkedFrom: null });
    expect(view.sessions).toEqual([{ startedAt: header[1]!.ts, pid: 7, agent: 'tuner', head: sha(1), endedAt: null, reason: null }]);
  });

  it('keeps what a trial in flight has done so far', () => {
    const view = foldRun([...baseline(10), steps.start(1, sha(1)), steps.agent(1), ...steps.commit(1, sha(1)), steps.run(1)]);
    expect(view.inFlight[0]).toMatchObject({ trial: 1, phase: 'running', commit: sha(101), description: 'trial 1', agentMs: 10, handles: [{ executor: 'local', pgid: 5001, processTag: 't-1' }], outcome: null, summary: null, endedAt: null });
  });

  it('falls back to the event time for a record without `at` (older ledgers)', () => {
    const end = ev('trial.end', { n: 1, summary: summaryOf(1, 'discard', 3) });
    expect(foldRun([end]).trials[0]?.endedAt).toBe(end.ts);
  });

  it('closes sessions, and remembers the files a baseline found volatile', () => {
    const view = foldRun([ev('session.start', { pid: 1, agent: 'a', head: sha(1) }), ev('protected.volatile', { n: 0, files: ['cache.bin'] }), ev('session.end', { reason: 'interrupted', trials: 0 }), ev('session.start', { pid: 2, agent: 'a', head: sha(1) })]);
    expect(view.sessions.map((s) => [s.pid, s.reason])).toEqual([[1, 'interrupted'], [2, null]]);
    expect(view.volatile).toEqual(['cache.bin']);
  });
});

// Random interleavings of several trials in flight, as a parallel loop may write them.
describe('foldRun over random interleavings (seeded)', () => {
  const seeds = Array.from({ length: 300 }, (_, i) => i + 1);
  it.each([['maximize' as const], ['minimize' as const]])('%s: every trial once, finished + in flight = started, the incumbent the best kept node', (direction) => {
    for (const seed of seeds) {
      const plan = randomLedger(prng(seed));
      const view = foldRun(plan.events, { direction });
      const where = `seed ${seed}`;
      const numbers = view.trials.map((node) => node.trial);
      expect(new Set(numbers).size, where).toBe(numbers.length);
      expect(numbers, where).toEqual([...plan.started].sort((a, b) => a - b));
      expect(view.history.map((s) => s.trial), where).toEqual([...plan.ended.keys()].sort((a, b) => a - b));
      expect([...view.history.map((s) => s.trial), ...view.inFlight.map((node) => node.trial)].sort((a, b) => a - b), where).toEqual(numbers);
      expect(view.nextTrial, where).toBe(Math.max(-1, ...plan.started) + 1);

      // The oracle: the best metric among ended keep/baseline trials, the earliest on a tie.
      let best: { trial: number; metric: number } | null = null;
      for (const [n, { outcome, metric }] of [...plan.ended].sort((a, b) => a[0] - b[0])) {
        if ((outcome !== 'keep' && outcome !== 'baseline') || metric === null) continue;
        if (best === null || (direction === 'maximize' ? metric > best.metric : metric < best.metric)) best = { trial: n, metric };
      }
      expect(view.incumbent?.trial ?? null, where).toBe(best?.trial ?? null);
    }
  });

  it('is the same without the steps of ended trials that it does not read (what the fast reader skips)', () => {
    for (const seed of seeds) {
      const { events } = randomLedger(prng(seed));
      const ended = new Set(events.filter((e) => e.type === 'trial.end').map((e) => e.n));
      const pruned = events.filter((e) => e.n === undefined || !ended.has(e.n) || READ_AFTER_END.has(e.type));
      expect(foldRun(pruned, { direction: 'maximize' }), `seed ${seed}`).toEqual(foldRun(events, { direction: 'maximize' }));
    }
  });
});

// Issue 8: trial numbers from proposal start, several trials in flight, results in any order.
describe('foldRun with several trials in flight', () => {
  const inc = sha(1);
  it('tells each trial in flight by its phase, slot and base, whatever order their events came in', () => {
    const t1 = parallelTrial(1, { parent: inc, outcome: 'keep', metric: 12, slot: 2 });
    const t2 = parallelTrial(2, { parent: inc, outcome: 'discard', metric: 9, slot: 1, onto: sha(101), queued: true });
    const t3 = parallelTrial(3, { parent: sha(101), outcome: 'keep', metric: 15, slot: 1 });
    // 1 runs in slot 2; 2 is rebased onto 1's commit and waits for a slot; 3's agent is at work.
    const events = [...header, ...baseline(10), t1[0]!, t2[0]!, t1[1]!, t1[2]!, t1[3]!, t1[4]!, t3[0]!, t2[1]!, t2[2]!, t2[3]!, t2[4]!, t2[5]!];
    const view = foldRun(events, { direction: 'maximize' });
    expect(view.inFlight.map((node) => [node.trial, node.phase, node.slot, node.base, node.commit])).toEqual([
      [1, 'running', 2, inc, sha(101)],
      [2, 'queued', null, sha(101), sha(202)],
      [3, 'agent', null, sha(101), ''],
    ]);
    expect(view.inFlight.map((node) => node.startedAt)).toEqual([t1[0]!.ts, t2[0]!.ts, t3[0]!.ts]);
    expect(view.nextTrial).toBe(4);
    expect(view.incumbent?.trial).toBe(0);
  });

  it('orders the history by trial number when the trials ended out of order', () => {
    const t1 = parallelTrial(1, { parent: inc, outcome: 'discard', metric: 9, slot: 1 });
    const t2 = parallelTrial(2, { parent: inc, outcome: 'keep', metric: 12, slot: 2 });
    const t3 = parallelTrial(3, { parent: inc, outcome: 'stale', metric: null, slot: 1 });
    const view = foldRun([...baseline(10), t1[0]!, t2[0]!, t3[0]!, ...t3.slice(1), ...t2.slice(1), ...t1.slice(1)], { direction: 'maximize' });
    expect(view.history.map((s) => [s.trial, s.outcome])).toEqual([[0, 'baseline'], [1, 'discard'], [2, 'keep'], [3, 'stale']]);
    expect(view.inFlight).toEqual([]);
    expect(view.incumbent?.trial).toBe(2);
    expect(view.trials.map((node) => node.slot)).toEqual([null, 1, 2, null]);
  });

  it('does not take a trial back to `queued` when the project moves to it after the decision', () => {
    const t1 = parallelTrial(1, { parent: inc, outcome: 'keep', metric: 12, slot: 3 });
    const decidedAndApplied = t1.slice(0, -1); // ... run.start, run.done, decide, apply
    expect(decidedAndApplied.at(-1)!.type).toBe('apply');
    expect(foldRun(decidedAndApplied).inFlight[0]).toMatchObject({ phase: 'decided', slot: 3 });
  });

  it('names what a re-measurement measures again, from its start and from its record', () => {
    const t5 = parallelTrial(5, { parent: sha(102), outcome: 'keep', metric: 20, slot: 1, remeasureOf: 2 });
    expect(foldRun(t5.slice(0, 3)).inFlight[0]?.remeasureOf).toBe(2);
    expect(foldRun(t5).trials[0]).toMatchObject({ remeasureOf: 2, base: sha(102), parent: sha(102), slot: 1, finished: true });
    expect(foldRun([t5.at(-1)!]).trials[0]).toMatchObject({ remeasureOf: 2, parent: sha(102), base: sha(102), startedAt: null });
  });

  it("takes a finished trial's base and slot from its record, not from the steps (which the fast reader skips)", () => {
    const t1 = parallelTrial(1, { parent: inc, outcome: 'discard', metric: 9, slot: 2, onto: sha(150) });
    expect(foldRun(t1).trials[0]).toMatchObject({ parent: inc, base: sha(150), slot: 2 });
    // A record of an older crucible names neither: the base is the parent, the slot unknown.
    const old = t1.map((e) => (e.type === 'trial.end' ? { ...e, summary: summaryOf(1, 'discard', 9) } : e));
    expect(foldRun(old).trials[0]).toMatchObject({ parent: inc, base: inc, slot: null });
  });
});

describe('foldRun over random interleavings of parallel trials (seeded)', () => {
  const seeds = Array.from({ length: 300 }, (_, i) => i + 1);
  it.each([['maximize' as const], ['minimize' as const]])('%s: every trial once, in flight = started − ended, phases, bases and slots as written, the incumbent an oracle', (direction) => {
    for (const seed of seeds) {
      const plan = randomParallelLedger(prng(seed), 1 + (seed % 8));
      const view = foldRun(plan.events, { direction });
      const where = `seed ${seed}`;
      const numbers = view.trials.map((node) => node.trial);
      expect(numbers, where).toEqual([...plan.started].sort((a, b) => a - b));
      expect(view.history.map((s) => s.trial), where).toEqual([...plan.ended.keys()].sort((a, b) => a - b));
      expect(view.inFlight.map((node) => node.trial), where).toEqual(numbers.filter((n) => !plan.ended.has(n)));
      for (const node of view.trials) {
        const expected = plan.expected.get(node.trial)!;
        expect({ phase: node.phase, base: node.base, slot: node.slot, remeasureOf: node.remeasureOf }, `${where}, trial ${node.trial}`).toEqual(expected);
      }
      let best: { trial: number; metric: number } | null = null;
      for (const [n, { outcome, metric }] of [...plan.ended].sort((a, b) => a[0] - b[0])) {
        if ((outcome !== 'keep' && outcome !== 'baseline') || metric === null) continue;
        if (best === null || (direction === 'maximize' ? metric > best.metric : metric < best.metric)) best = { trial: n, metric };
      }
      expect(view.incumbent?.trial ?? null, where).toBe(best?.trial ?? null);

      const ended = new Set(plan.events.filter((e) => e.type === 'trial.end').map((e) => e.n));
      const pruned = plan.events.filter((e) => e.n === undefined || !ended.has(e.n) || READ_AFTER_END.has(e.type));
      expect(foldRun(pruned, { direction }), `${where}, pruned`).toEqual(view);
    }
  });
});
