import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/loop/outcome.js';
import type { ResultRow } from '../../src/store/result-row.js';
import { compareJson, renderCompare } from '../../src/report/compare.js';
import { renderStatus, statusJson, type StatusInput } from '../../src/report/status.js';
import { summarizeRun } from '../../src/report/summary.js';
import { describeInFlight } from '../../src/report/in-flight.js';
import type { TrialNode, TrialPhase } from '../../src/store/fold-run.js';

function row(tag: string, trial: number, status: Outcome, metric: number | null, extra: Partial<ResultRow> = {}): ResultRow {
  return {
    commit: `${tag.slice(-1)}${String(trial).padStart(6, '0')}`,
    metric,
    status,
    description: `trial ${trial}`,
    tag,
    trial,
    timestamp: `2026-03-13T10:${String(trial).padStart(2, '0')}:00Z`,
    agentSeconds: null,
    runSeconds: null,
    totalSeconds: null,
    costUsd: null,
    ...extra,
  };
}

const run1 = summarizeRun(
  [
    row('run1', 0, 'baseline', 98000),
    row('run1', 1, 'keep', 120000, { description: 'add insertion sort for small partitions' }),
    row('run1', 2, 'crash', null),
    row('run1', 3, 'keep', 142000, { description: 'switch to radix sort for large arrays' }),
    row('run1', 4, 'discard', 130000),
    row('run1', 5, 'violation', null),
  ],
  'maximize',
);
const run2 = summarizeRun(
  [row('run2', 0, 'baseline', 98000), row('run2', 1, 'keep', 150000), row('run2', 2, 'discard', 100000)],
  'maximize',
);

function statusInput(overrides: Partial<StatusInput> = {}): StatusInput {
  return {
    experiment: 'optimize-sorting',
    tag: 'run1',
    branch: 'crucible/run1',
    metricName: 'ops_per_sec',
    direction: 'maximize',
    summary: run1,
    ...overrides,
  };
}

describe('renderStatus', () => {
  it('shows counts, baseline, best and improvement', () => {
    expect(renderStatus(statusInput())).toMatchInlineSnapshot(`
      "Experiment: optimize-sorting   run: run1 (branch crucible/run1)
      Trials: 5  kept 2  discarded 1  crashed 1  violations 1
      Baseline ops_per_sec: 98000   Best: 142000 (commit 1000003, trial 3)  +44.9% better
      Last trial: 2026-03-13T10:05:00Z"
    `);
  });

  it('says when the run is alive, and when nothing beat the baseline yet', () => {
    const onlyBaseline = summarizeRun([row('run1', 0, 'baseline', 98000), row('run1', 1, 'discard', 90000)], 'maximize');
    const text = renderStatus(statusInput({ summary: onlyBaseline, running: { pid: 4242, since: '2026-03-13T09:00:00Z' } }));
    expect(text).toContain('running (pid 4242');
    expect(text).toContain('Best: 98000 (the baseline; no improvement yet)');
  });

  it('says when nothing has been measured', () => {
    const text = renderStatus(statusInput({ summary: summarizeRun([], 'maximize') }));
    expect(text).toContain('Trials: 0');
    expect(text).toContain('Baseline ops_per_sec: not measured yet');
    expect(text).toContain('Best: none yet');
  });
});

describe('statusJson', () => {
  it("keeps every field of the reference tool's status --json", () => {
    const json = statusJson(statusInput());
    for (const key of ['experiment', 'total', 'kept', 'discarded', 'crashed', 'best']) expect(json).toHaveProperty(key);
    expect(json).toMatchObject({
      experiment: 'optimize-sorting',
      total: 5,
      kept: 2,
      discarded: 1,
      crashed: 1,
      best: { metric: 142000, commit: '1000003', description: 'switch to radix sort for large arrays', trial: 3 },
    });
  });

  it('adds our fields with snake_case keys', () => {
    const json = statusJson(statusInput({ running: { pid: 7, since: '2026-03-13T09:00:00Z' } }));
    expect(json).toMatchObject({
      tag: 'run1',
      branch: 'crucible/run1',
      metric: { name: 'ops_per_sec', direction: 'maximize' },
      skipped: 0,
      violations: 1,
      agent_errors: 0,
      baseline: { metric: 98000, commit: '1000000' },
      improvement: { absolute: 44000 },
      usage: { cost_usd: null },
      running: { pid: 7, since: '2026-03-13T09:00:00Z' },
    });
    expect(Object.keys(json).every((key) => key === key.toLowerCase())).toBe(true);
    expect(statusJson(statusInput({ summary: summarizeRun([], 'maximize') }))).toMatchObject({ best: null, baseline: null, improvement: null, running: null });
  });
});

describe('compare', () => {
  it('renders both runs side by side and names the better one', () => {
    expect(renderCompare(run1, run2, 'ops_per_sec')).toMatchInlineSnapshot(`
      "                          run1      run2
      Trials                       5         2
      Kept                         2         1
      Discarded                    1         1
      Crashed                      1         0
      Violations                   1         0
      Baseline ops_per_sec     98000     98000
      Best ops_per_sec        142000    150000
      Best commit            1000003   2000001
      Improvement             +44.9%    +53.1%

      run2 is better: 150000 vs 142000 (+5.6%)"
    `);
  });

  it('uses the direction to pick the better run', () => {
    const a = summarizeRun([row('a', 0, 'baseline', 2), row('a', 1, 'keep', 1)], 'minimize');
    const b = summarizeRun([row('b', 0, 'baseline', 2), row('b', 1, 'keep', 1.5)], 'minimize');
    expect(renderCompare(a, b, 'loss')).toContain('a is better: 1 vs 1.5 (+33.3%)');
    expect(renderCompare(a, a, 'loss')).toContain('Both runs reach the same best: 1.');
  });

  it('leaves out the verdict when a run has no best', () => {
    const empty = summarizeRun([], 'maximize');
    expect(renderCompare(run1, { ...empty, tag: 'run3' }, 'ops_per_sec')).not.toContain('better');
  });

  it('gives JSON keyed by tag, counting trials without the baseline', () => {
    const json = compareJson(run1, run2);
    expect(Object.keys(json)).toEqual(['run1', 'run2']);
    expect(json['run1']).toMatchObject({
      iterations: 5,
      kept: 2,
      discarded: 1,
      crashed: 1,
      best_metric: 142000,
      best_commit: '1000003',
      baseline_metric: 98000,
    });
    expect(json['run1']?.improvement_percent).toBeCloseTo(44.898, 3);
    expect(json['run2']).toMatchObject({ iterations: 2, best_metric: 150000, best_commit: '2000001' });
  });

  it('refuses to compare a run with itself in JSON, where the keys would collide', () => {
    expect(() => compareJson(run1, run1)).toThrow(/two different runs/);
  });
});

// Issue 8: trials run in parallel.
describe('status with trials in flight and stale ones', () => {
  const now = new Date('2026-03-13T11:00:00.000Z');
  const node = (trial: number, phase: TrialPhase, startedAt: string | null, extra: Partial<TrialNode> = {}): TrialNode => ({
    trial, parent: 'a'.repeat(40), base: 'a'.repeat(40), baseline: false, slot: null, remeasureOf: null, finished: false, phase, outcome: null, metric: null, commit: '', description: '',
    agentMs: 0, runMs: 0, totalMs: 0, costUsd: null, usage: null, startedAt, endedAt: null, summary: null, handles: [], ...extra,
  });
  const inFlight = describeInFlight(
    [
      node(8, 'agent', '2026-03-13T10:59:48.000Z'),
      node(6, 'running', '2026-03-13T10:55:55.000Z', { slot: 2 }),
      node(7, 'queued', '2026-03-13T10:57:00.000Z', { base: 'b'.repeat(40), remeasureOf: 4 }),
      node(9, 'decided', null, { slot: 1 }),
    ],
    now,
  );
  const withStale = summarizeRun([row('run1', 0, 'baseline', 98000), row('run1', 1, 'keep', 120000), row('run1', 2, 'stale', null), row('run1', 3, 'stale', null)], 'maximize');

  it('lists the trials in flight by number: slot, phase, time since they started, and what is special about them', () => {
    expect(renderStatus(statusInput({ summary: withStale, running: { pid: 7, since: '2026-03-13T10:00:00Z' }, inFlight }))).toMatchInlineSnapshot(`
      "Experiment: optimize-sorting   run: run1 (branch crucible/run1)   running (pid 7 since 2026-03-13T10:00:00Z)
      Trials: 3  kept 1  discarded 0  crashed 0  stale 2
      Baseline ops_per_sec: 98000   Best: 120000 (commit 1000001, trial 1)  +22.4% better
      Last trial: 2026-03-13T10:03:00Z
      In flight: 4
        Trial  Slot  Phase    Elapsed
            6     2  running  4m 05s
            7     -  queued   3m 00s   re-measures trial 4; rebased onto bbbbbbb
            8     -  agent    12s
            9     1  decided  -"
    `);
  });

  it('says when the trials left in flight belong to no live run', () => {
    const text = renderStatus(statusInput({ inFlight: inFlight.slice(0, 1), running: null }));
    expect(text).toContain('Unfinished: 1 (no live `crucible run` holds this run here; the next one reconciles it)');
  });

  it('shows nothing more when nothing is in flight', () => {
    expect(renderStatus(statusInput({ inFlight: [] }))).toBe(renderStatus(statusInput()));
  });

  it('gives them in --json, with the stale count', () => {
    const json = statusJson(statusInput({ summary: withStale, inFlight }));
    expect(json.stale).toBe(2);
    expect(json.in_flight.map((t) => [t.trial, t.phase, t.slot, t.elapsed_seconds])).toEqual([[6, 'running', 2, 245], [7, 'queued', null, 180], [8, 'agent', null, 12], [9, 'decided', 1, null]]);
    expect(json.in_flight[1]).toEqual({ trial: 7, phase: 'queued', slot: null, started_at: '2026-03-13T10:57:00.000Z', elapsed_seconds: 180, parent: 'aaaaaaa', base: 'bbbbbbb', remeasure_of: 4 });
    expect(statusJson(statusInput()).in_flight).toEqual([]);
  });

  it('counts no time for a trial that started after now (a clock set back)', () => {
    expect(describeInFlight([node(1, 'agent', '2026-03-13T12:00:00.000Z')], now)[0]?.elapsedSeconds).toBe(0);
  });

  it('compare shows stale trials when a run had some', () => {
    const text = renderCompare({ ...withStale, tag: 'p' }, run2, 'ops_per_sec');
    expect(text).toMatch(/^Stale +2 +0$/m);
    expect(compareJson({ ...withStale, tag: 'p' }, run2)['p']?.stale).toBe(2);
  });
});

describe('what a hand-edited ledger names', () => {
  it('prints a base or parent only when it is a commit id', () => {
    const hostile = '\u001b[2J\u001b]0;pwned\u0007';
    const node = { trial: 3, parent: hostile, base: `${hostile}x`, baseline: false, slot: 1, remeasureOf: null, finished: false, phase: 'running' as const, outcome: null, metric: null, commit: '', description: '', agentMs: 0, runMs: 0, totalMs: 0, costUsd: null, usage: null, startedAt: 'not a time', endedAt: null, summary: null, handles: [] };
    const [trial] = describeInFlight([node], new Date());
    expect(trial).toMatchObject({ parent: null, base: null, elapsedSeconds: null });
    expect(renderStatus(statusInput({ inFlight: [trial!], running: null }))).not.toContain('\u001b');
  });
});
