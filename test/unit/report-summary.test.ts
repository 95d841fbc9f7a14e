import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/loop/outcome.js';
import type { ResultRow } from '../../src/store/result-row.js';
import { summarizeRun } from '../../src/report/summary.js';

function row(trial: number, status: Outcome, metric: number | null, extra: Partial<ResultRow> = {}): ResultRow {
  return {
    commit: `c${String(trial).padStart(6, '0')}`,
    metric,
    status,
    description: `trial ${trial}`,
    tag: 'run1',
    trial,
    timestamp: `2026-03-13T10:${String(trial).padStart(2, '0')}:00Z`,
    agentSeconds: null,
    runSeconds: null,
    totalSeconds: null,
    costUsd: null,
    ...extra,
  };
}

describe('summarizeRun', () => {
  it('counts every outcome but never the baseline as a trial', () => {
    const summary = summarizeRun(
      [
        row(0, 'baseline', 10),
        row(1, 'keep', 12),
        row(2, 'discard', 11),
        row(3, 'crash', null),
        row(4, 'violation', null),
        row(5, 'skip', null),
        row(6, 'agent-error', null),
        row(7, 'stopped', null),
        row(8, 'interrupted', null),
      ],
      'maximize',
    );
    expect(summary).toMatchObject({
      tag: 'run1',
      trials: 8,
      kept: 1,
      discarded: 1,
      crashed: 1,
      violations: 1,
      skipped: 1,
      agentErrors: 1,
      stopped: 1,
      interrupted: 1,
      keepRate: 1 / 8,
    });
  });

  it.each<{ name: string; rows: ResultRow[]; direction: 'maximize' | 'minimize'; best: number | null; trial?: number }>([
    {
      name: 'maximize picks the highest keep',
      rows: [row(0, 'baseline', 10), row(1, 'keep', 12), row(2, 'keep', 15), row(3, 'discard', 14)],
      direction: 'maximize',
      best: 15,
      trial: 2,
    },
    {
      name: 'minimize picks the lowest keep',
      rows: [row(0, 'baseline', 10), row(1, 'keep', 8), row(2, 'keep', 6), row(3, 'discard', 7)],
      direction: 'minimize',
      best: 6,
      trial: 2,
    },
    {
      name: 'a tie goes to the earliest trial',
      rows: [row(0, 'baseline', 10), row(1, 'keep', 12), row(2, 'keep', 12)],
      direction: 'maximize',
      best: 12,
      trial: 1,
    },
    {
      name: 'no keep: the best is the baseline',
      rows: [row(0, 'baseline', 10), row(1, 'discard', 9), row(2, 'crash', null)],
      direction: 'maximize',
      best: 10,
      trial: 0,
    },
    {
      name: 'a discard that beats everything is still not the best',
      rows: [row(0, 'baseline', 10), row(1, 'discard', 99)],
      direction: 'maximize',
      best: 10,
      trial: 0,
    },
    {
      name: 'a crash row with a stray metric is never the best',
      rows: [row(0, 'baseline', 10), row(1, 'crash', 0)],
      direction: 'minimize',
      best: 10,
      trial: 0,
    },
    {
      name: 'a baseline without a metric and no keep: no best',
      rows: [row(0, 'baseline', null), row(1, 'crash', null)],
      direction: 'maximize',
      best: null,
    },
    { name: 'no rows at all', rows: [], direction: 'maximize', best: null },
  ])('$name', ({ rows, direction, best, trial }) => {
    const summary = summarizeRun(rows, direction);
    expect(summary.best?.metric ?? null).toBe(best);
    if (trial !== undefined) expect(summary.best?.trial).toBe(trial);
  });

  it('finds the best whatever order the rows come in', () => {
    const rows = [row(2, 'keep', 12), row(0, 'baseline', 10), row(1, 'keep', 12)];
    expect(summarizeRun(rows, 'maximize').best?.trial).toBe(1);
  });

  it('reports improvement so that positive always means better', () => {
    const up = summarizeRun([row(0, 'baseline', 98000), row(1, 'keep', 142000)], 'maximize');
    expect(up.improvement?.absolute).toBe(44000);
    expect(up.improvement?.percent).toBeCloseTo(44.898, 3);
    const down = summarizeRun([row(0, 'baseline', 2), row(1, 'keep', 1.5)], 'minimize');
    expect(down.improvement).toEqual({ absolute: 0.5, percent: 25 });
    const fromZero = summarizeRun([row(0, 'baseline', 0), row(1, 'keep', 3)], 'maximize');
    expect(fromZero.improvement).toEqual({ absolute: 3, percent: null });
    expect(summarizeRun([row(1, 'keep', 3)], 'maximize').improvement).toBeNull();
  });

  it('sums costs and durations, and says when no cost is known', () => {
    const withCost = summarizeRun(
      [
        row(0, 'baseline', 1, { runSeconds: 10, totalSeconds: 10 }),
        row(1, 'keep', 2, { costUsd: 0.1, agentSeconds: 30, runSeconds: 10, totalSeconds: 40 }),
        row(2, 'discard', 1, { costUsd: 0.2, agentSeconds: 20, runSeconds: 10, totalSeconds: 30 }),
      ],
      'maximize',
    );
    expect(withCost.totalCostUsd).toBe(0.3);
    expect(withCost.durations).toEqual({ agentSeconds: 50, runSeconds: 30, totalSeconds: 80 });
    expect(summarizeRun([row(0, 'baseline', 1), row(1, 'keep', 2)], 'maximize').totalCostUsd).toBeNull();
  });

  it('adds in trial order whatever order the rows come in: the same totals to the last bit', () => {
    // Float sums depend on the order: 0.1 + 0.2 + 0.3 is not 0.3 + 0.2 + 0.1.
    const values = [0.1, 0.2, 0.3, 0.7, 1e-9, 0.05];
    const rows = values.map((v, i) => row(i, i === 0 ? 'baseline' : 'discard', 1, { agentSeconds: v, runSeconds: v * 3, totalSeconds: v * 7 }));
    const inOrder = summarizeRun(rows, 'maximize');
    expect(inOrder.durations.agentSeconds).toBe(values.reduce((sum, v) => sum + v, 0));
    const reversed = summarizeRun([...rows].reverse(), 'maximize');
    expect(reversed.durations).toEqual(inOrder.durations);
    expect(Object.is(reversed.durations.agentSeconds, inOrder.durations.agentSeconds)).toBe(true);
  });

  it('reports the latest timestamp and no keep rate before the first trial', () => {
    const summary = summarizeRun([row(0, 'baseline', 1), row(2, 'keep', 3), row(1, 'discard', 0)], 'maximize');
    expect(summary.lastTrialAt).toBe('2026-03-13T10:02:00Z');
    expect(summarizeRun([row(0, 'baseline', 1)], 'maximize').keepRate).toBeNull();
  });

  it('refuses rows of two runs', () => {
    expect(() => summarizeRun([row(0, 'baseline', 1), row(1, 'keep', 2, { tag: 'run2' })], 'maximize')).toThrow(/two runs/);
  });
});
