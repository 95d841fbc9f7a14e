import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/loop/outcome.js';
import type { ResultRow } from '../../src/store/result-row.js';
import { historyJson, renderHistory } from '../../src/report/history.js';
import { measureWidth } from '../../src/report/text-width.js';

function row(trial: number, status: Outcome, metric: number | null, description = `trial ${trial}`, commit = `c${trial}abcde`): ResultRow {
  return {
    commit,
    metric,
    status,
    description,
    tag: 'run1',
    trial,
    timestamp: `2026-03-13T10:${String(trial).padStart(2, '0')}:00Z`,
    agentSeconds: null,
    runSeconds: null,
    totalSeconds: null,
    costUsd: null,
  };
}

const rows: ResultRow[] = [
  row(0, 'baseline', 98000, '(unmodified code)', 'a1b2c3d'),
  row(1, 'crash', null, 'broke the partition step'),
  row(2, 'skip', null, 'agent made no change', ''),
  row(3, 'keep', 142000, 'switch to radix sort for large arrays, with a long explanation of why it should help', 'b2c3d4e'),
];

describe('renderHistory', () => {
  it('renders a table with right-aligned metrics and "-" for missing values', () => {
    expect(renderHistory(rows, { last: 10, width: 80, metricName: 'ops_per_sec' })).toMatchInlineSnapshot(`
      "Trial  Commit   ops_per_sec  Status    Description
      --------------------------------------------------------------------------------
          0  a1b2c3d        98000  baseline  (unmodified code)
          1  c1abcde            -  crash     broke the partition step
          2  -                  -  skip      agent made no change
          3  b2c3d4e       142000  keep      switch to radix sort for large arrays, w…"
    `);
  });

  it.each([60, 80, 120])('never exceeds a %i-column terminal', (width) => {
    const lines = renderHistory(rows, { last: 10, width, metricName: 'ops_per_sec' }).split('\n');
    for (const line of lines) expect(measureWidth(line)).toBeLessThanOrEqual(width);
  });

  it('shows only the last N trials in trial order, and says some were left out', () => {
    const shuffled = [rows[3], rows[1], rows[0], rows[2]].filter((r): r is ResultRow => r !== undefined);
    const text = renderHistory(shuffled, { last: 2, width: 80, metricName: 'ops_per_sec' });
    const body = text.split('\n').slice(2, 4);
    expect(body.map((line) => line.trim().split(/\s+/)[0])).toEqual(['2', '3']);
    expect(text).toContain('last 2 of 4');
  });

  it('shows a run of 130,000 trials whole (a spread of every width into Math.max overflowed the stack)', () => {
    const long = Array.from({ length: 130_000 }, (_, i) => row(i + 1, i % 7 === 0 ? 'keep' : 'discard', i / 1000));
    const lines = renderHistory(long, { last: 200_000, width: 80, metricName: 'loss' }).split('\n');
    expect(lines).toHaveLength(130_002);
    expect(lines[1]).toMatch(/^-+$/);
    expect(lines.at(-1)!.trim().split(/\s+/).slice(0, 3)).toEqual(['130000', 'c130000abcde', '129.999']);
  });

  it('refuses --last 0 instead of showing everything', () => {
    expect(() => renderHistory(rows, { last: 0, width: 80, metricName: 'm' })).toThrow(RangeError);
    expect(() => historyJson(rows, -1)).toThrow(RangeError);
  });

  it('says so when there is nothing to show', () => {
    expect(renderHistory([], { last: 10, width: 80, metricName: 'm' })).toBe('No trials yet.');
  });
});

describe('historyJson', () => {
  it('gives the reference fields plus trial, tag and timestamp, and null for a missing commit', () => {
    const entries = historyJson(rows, 2);
    expect(entries).toEqual([
      {
        trial: 2,
        commit: null,
        metric: null,
        status: 'skip',
        description: 'agent made no change',
        tag: 'run1',
        timestamp: '2026-03-13T10:02:00Z',
      },
      {
        trial: 3,
        commit: 'b2c3d4e',
        metric: 142000,
        status: 'keep',
        description: 'switch to radix sort for large arrays, with a long explanation of why it should help',
        tag: 'run1',
        timestamp: '2026-03-13T10:03:00Z',
      },
    ]);
  });
});

describe('history of a parallel run', () => {
  const parallel: ResultRow[] = [
    { ...row(0, 'baseline', 98000, '(unmodified code)', 'a1b2c3d'), parent: 'a1b2c3d', base: 'a1b2c3d', slot: 1 },
    { ...row(2, 'keep', 120000), parent: 'a1b2c3d', base: 'a1b2c3d', slot: 2 },
    { ...row(1, 'discard', 110000), parent: 'a1b2c3d', base: 'a1b2c3d', slot: 1 },
    { ...row(3, 'stale', null, 'no longer applies', ''), parent: 'a1b2c3d', base: 'a1b2c3d' },
    { ...row(4, 'keep', 125000), parent: 'c2abcde', base: 'c2abcde', slot: 2, remeasureOf: 1 },
  ];

  it('lists trials by number whatever order they ended in', () => {
    const body = renderHistory(parallel, { last: 10, width: 80, metricName: 'ops_per_sec' }).split('\n').slice(2);
    expect(body.map((line) => line.trim().split(/\s+/)[0])).toEqual(['0', '1', '2', '3', '4']);
  });

  it('gives parent, base, slot and remeasure_of in --json where the record names them', () => {
    const entries = historyJson(parallel, 10);
    expect(entries.map((e) => e.trial)).toEqual([0, 1, 2, 3, 4]);
    expect(entries[3]).toEqual({ trial: 3, commit: null, metric: null, status: 'stale', description: 'no longer applies', tag: 'run1', timestamp: '2026-03-13T10:03:00Z', parent: 'a1b2c3d', base: 'a1b2c3d' });
    expect(entries[4]).toMatchObject({ trial: 4, parent: 'c2abcde', base: 'c2abcde', slot: 2, remeasure_of: 1 });
    expect(JSON.stringify(historyJson(rows, 10))).not.toMatch(/"(parent|base|slot|remeasure_of)":/);
  });
});
