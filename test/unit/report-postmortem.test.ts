import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/loop/outcome.js';
import type { ResultRow } from '../../src/store/result-row.js';
import { analyzeRun } from '../../src/report/postmortem.js';
import { postmortemJson } from '../../src/report/postmortem-json.js';
import { renderPostmortem } from '../../src/report/postmortem-render.js';
import { measureWidth } from '../../src/report/text-width.js';

function row(trial: number, status: Outcome, metric: number | null, description = `trial ${trial}`): ResultRow {
  return {
    commit: status === 'skip' || status === 'violation' ? '' : `c${String(trial).padStart(6, '0')}`,
    metric,
    status,
    description,
    tag: 'run1',
    trial,
    timestamp: `2026-03-13T10:${String(trial % 60).padStart(2, '0')}:00Z`,
    agentSeconds: null,
    runSeconds: null,
    totalSeconds: null,
    costUsd: null,
  };
}

/** A run from a compact script: "K12" keep at 12, "D9" discard at 9, "C" crash, "S" skip, "V" violation. */
function script(baseline: number, steps: string[]): ResultRow[] {
  const rows = [row(0, 'baseline', baseline, '(unmodified code)')];
  steps.forEach((step, index) => {
    const trial = index + 1;
    const value = step.length > 1 ? Number(step.slice(1)) : null;
    const status = ({ K: 'keep', D: 'discard', C: 'crash', S: 'skip', V: 'violation' } as const)[step[0] as 'K'];
    rows.push(row(trial, status, value));
  });
  return rows;
}

describe('analyzeRun', () => {
  it.each<{ steps: string[]; streaks: Array<[number, number]> }>([
    { steps: ['K11', 'K12'], streaks: [] },
    { steps: ['D9', 'K11', 'C', 'D8'], streaks: [[3, 4]] },
    { steps: ['D9', 'C', 'K11', 'S', 'V', 'D1', 'K12', 'D3'], streaks: [[1, 2], [4, 6]] },
    { steps: ['C', 'C', 'C'], streaks: [[1, 3]] },
  ])('finds failure streaks of two or more, baseline aside: $steps', ({ steps, streaks }) => {
    const pm = analyzeRun(script(10, steps), 'maximize');
    expect(pm.failureStreaks.map((streak) => [streak.startTrial, streak.endTrial])).toEqual(streaks);
    for (const streak of pm.failureStreaks) expect(streak.length).toBe(streak.endTrial - streak.startTrial + 1);
  });

  it('ranks turning points by relative gain, largest first, at most three', () => {
    // 100 → 110 (+10%), → 165 (+50%), → 170 (+3%), → 255 (+50%, later), → 260
    const pm = analyzeRun(script(100, ['K110', 'K165', 'D120', 'K170', 'K255', 'K260']), 'maximize');
    expect(pm.turningPoints.map((point) => point.trial)).toEqual([2, 5, 1]);
    expect(pm.turningPoints[0]).toMatchObject({ from: 110, to: 165, absolute: 55, percent: 50 });
  });

  it('measures turning points in the direction of the objective', () => {
    const pm = analyzeRun(script(2, ['K1.5', 'D1.8', 'K1']), 'minimize');
    expect(pm.turningPoints.map((point) => [point.trial, point.percent])).toEqual([
      [3, (0.5 / 1.5) * 100],
      [1, 25],
    ]);
  });

  it('tracks the best so far, untouched by discards and crashes', () => {
    const pm = analyzeRun(script(10, ['D30', 'K12', 'C', 'D11', 'K15']), 'maximize');
    expect(pm.trend.map((point) => point.bestSoFar)).toEqual([10, 10, 12, 12, 12, 15]);
  });

  it.each<{ steps: string[]; plateau: { sinceTrial: number; length: number } | null }>([
    { steps: ['K11', 'D9', 'C'], plateau: null },
    { steps: ['K11', 'D9', 'C', 'S'], plateau: { sinceTrial: 2, length: 3 } },
    { steps: ['D9', 'D8', 'C', 'D1'], plateau: { sinceTrial: 1, length: 4 } },
    { steps: ['D9', 'D8', 'C', 'K12'], plateau: null },
    { steps: [], plateau: null },
  ])('finds a trailing plateau of three or more: $steps', ({ steps, plateau }) => {
    expect(analyzeRun(script(10, steps), 'maximize').plateau).toEqual(plateau);
  });
});

describe('postmortemJson', () => {
  it('has the reference fields, ours in snake_case, and room for AI insights', () => {
    const json = postmortemJson(analyzeRun(script(10, ['K12', 'C', 'D11', 'D9', 'S']), 'maximize'));
    expect(json).toMatchObject({
      total: 5,
      kept: 1,
      discarded: 2,
      crashed: 1,
      skipped: 1,
      best_metric: 12,
      best_commit: 'c000001',
      baseline_metric: 10,
      failure_streaks: [{ start_trial: 2, end_trial: 5, length: 4 }],
      turning_points: [{ trial: 1, from: 10, to: 12, absolute: 2, percent: 20 }],
      plateau: { since_trial: 2, length: 4 },
      ai_insights: null,
    });
    expect(json.trend[0]).toEqual({
      trial: 0,
      metric: 10,
      status: 'baseline',
      description: '(unmodified code)',
      commit: 'c000000',
      best_so_far: 10,
    });
    expect(json.trend[5]?.commit).toBeNull();
  });
});

describe('renderPostmortem', () => {
  it('renders every section for a short run', () => {
    const text = renderPostmortem(
      analyzeRun(script(98000, ['K110000', 'D105000', 'C', 'K138000', 'S', 'K142000', 'D141000', 'C', 'D100000']), 'maximize'),
      { metricName: 'ops_per_sec', width: 80 },
    );
    expect(text).toMatchInlineSnapshot(`
      "## Summary
        Best ops_per_sec: 142000 (commit c000006, trial 6)
        Baseline: 98000 (commit c000000)   Improvement: +44000 (+44.9%)
        Trials: 9  kept 3  discarded 3  crashed 2  skipped 1   Keep rate: 33%

      ## Trend: ops_per_sec, higher is better
        142000 ┤                                              ★───────·───────────────
               │                               ●──────────────┘
               │                               │
               │                               │
               │                               │
               │                               │
               │                               │
               │        ●──────────────────────┘
               │        │      ·
         98000 ┤●───────┘                                                            ·
               └───────────────────────x──────────────x──────────────────────x────────
                0                               trial                                9
                ● kept  · discarded  ─ best so far  ★ best  x no metric

      ## Trials
        0  █░░░░░░░░░░░░░░░░░░░   98000  baseline   (unmodified code)
        1  ██████░░░░░░░░░░░░░░  110000  keep       trial 1
        2  ████░░░░░░░░░░░░░░░░  105000  discard    trial 2
        3                             -  crash      trial 3
        4  ██████████████████░░  138000  keep       trial 4
        5                             -  skip       trial 5
        6  ████████████████████  142000  keep     ★ trial 6
        7  ████████████████████  141000  discard    trial 7
        8                             -  crash      trial 8
        9  ██░░░░░░░░░░░░░░░░░░  100000  discard    trial 9

      ## Turning points
        trial 4  110000 → 138000  +25.5%  trial 4
        trial 1  98000 → 110000  +12.2%  trial 1
        trial 6  138000 → 142000  +2.9%  trial 6

      ## Failure streaks
        trials 2–3  2 in a row: 1 discard, 1 crash
        trials 7–9  3 in a row: 2 discard, 1 crash

      ## Plateau
        No improvement in the last 3 trials (trials 7–9)."
    `);
  });

  it('stays within the terminal width and drops the per-trial list for long runs', () => {
    const steps = Array.from({ length: 300 }, (_, index) => (index % 5 === 0 ? `K${1000 + index}` : index % 7 === 0 ? 'C' : `D${900 + index}`));
    const text = renderPostmortem(analyzeRun(script(1000, steps), 'maximize'), { metricName: 'score', width: 80 });
    for (const line of text.split('\n')) expect(measureWidth(line)).toBeLessThanOrEqual(80);
    expect(text).toContain('## Trend');
    expect(text).not.toContain('## Trials');
    expect(text).toContain('★');
  });

  it('says so when nothing was recorded', () => {
    expect(renderPostmortem(analyzeRun([], 'maximize'), { metricName: 'm', width: 80 })).toBe('No trials recorded yet.');
  });
});

describe('postmortem of a parallel run', () => {
  const origin = { parent: 'c000000', base: 'c000000' };
  const rows: ResultRow[] = [
    { ...row(0, 'baseline', 10, '(unmodified code)'), ...origin, slot: 1 },
    { ...row(2, 'keep', 12), ...origin, slot: 2 },
    { ...row(1, 'discard', 13), ...origin, slot: 1 },
    { ...row(3, 'stale', null), ...origin },
    { ...row(5, 'stale', null), parent: 'c000002', base: 'c000002' },
    { ...row(4, 'keep', 13.5), parent: 'c000002', base: 'c000002', slot: 1, remeasureOf: 1 },
  ];

  it('notes the re-measured trial and the stale ones, in trial order', () => {
    const pm = analyzeRun(rows, 'maximize');
    expect(pm.trend.map((point) => point.trial)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pm.remeasured).toEqual([{ trial: 1, as: 4, status: 'keep', metric: 13.5 }]);
    expect(pm.stale).toEqual([3, 5]);
    const text = renderPostmortem(pm, { metricName: 'score', width: 80 });
    expect(text).toContain('Trials: 5  kept 2  discarded 1  crashed 0  stale 2');
    expect(text).toContain(
      [
        '## Re-measured and stale',
        '  trial 1: re-measured as trial 4 on the new incumbent (keep 13.5)',
        '  stale: trials 3, 5 (the incumbent moved while the agent worked and the change',
        '    no longer applied; not measured, not a failure)',
      ].join('\n'),
    );
    for (const line of text.split('\n')) expect(measureWidth(line)).toBeLessThanOrEqual(80);
  });

  it('gives parent, base, slot and remeasure_of per trial in --json, and the stale count', () => {
    const json = postmortemJson(analyzeRun(rows, 'maximize'));
    expect(json.stale).toBe(2);
    expect(json.trend[4]).toEqual({ trial: 4, metric: 13.5, status: 'keep', description: 'trial 4', commit: 'c000004', best_so_far: 13.5, parent: 'c000002', base: 'c000002', slot: 1, remeasure_of: 1 });
    expect(json.trend[3]).not.toHaveProperty('slot');
  });

  it('has no such section for a serial run', () => {
    expect(renderPostmortem(analyzeRun(script(10, ['K12', 'D9']), 'maximize'), { metricName: 'm', width: 80 })).not.toMatch(/Re-measured|Stale/);
  });
});
