import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/loop/outcome.js';
import { renderTrendChart, type ChartPoint } from '../../src/report/chart.js';
import { measureWidth } from '../../src/report/text-width.js';

/** Points as analyzeRun would give them: best so far follows keeps and the baseline. */
function points(specs: ReadonlyArray<[Outcome, number | null]>, direction: 'maximize' | 'minimize' = 'maximize'): ChartPoint[] {
  let best: number | null = null;
  return specs.map(([status, metric], trial) => {
    const counts = (status === 'keep' || status === 'baseline') && metric !== null;
    if (counts && (best === null || (direction === 'maximize' ? metric > best : metric < best))) best = metric;
    return { trial, metric, status, bestSoFar: best };
  });
}

function expectShape(chart: string, opts: { width: number; height: number }): string[] {
  const lines = chart.split('\n');
  expect(lines).toHaveLength(opts.height + 3);
  for (const line of lines) expect(measureWidth(line)).toBeLessThanOrEqual(opts.width);
  expect(chart).toContain('★');
  return lines;
}

describe('renderTrendChart', () => {
  it('draws five trials across the width, with crashes on the axis instead of at 0', () => {
    const chart = renderTrendChart(
      points([
        ['baseline', 100],
        ['keep', 104],
        ['crash', null],
        ['discard', 102],
        ['keep', 110],
      ]),
      { width: 60, height: 6, direction: 'maximize' },
    );
    expect(chart).toMatchInlineSnapshot(`
      "110 ┤                                                      ★
          │                                                      │
          │                                                      │
          │              ●───────────────────────────────────────┘
          │              │                          ·
      100 ┤●─────────────┘
          └───────────────────────────x───────────────────────────
           0                        trial                        4
           ● kept  · discarded  ─ best so far  ★ best  x no metric"
    `);
    const lines = expectShape(chart, { width: 60, height: 6 });
    // The lowest label is the lowest measured value, not a crash's 0.
    expect(lines[5]).toMatch(/^100 ┤/);
    expect(lines[6]).toContain('x');
  });

  it('fits 1,000 trials into 80 columns, one bucket per column', () => {
    const specs: Array<[Outcome, number | null]> = [['baseline', 1000]];
    let best = 1000;
    for (let trial = 1; trial <= 1000; trial += 1) {
      if (trial % 7 === 0) specs.push(['crash', null]);
      else if (trial % 3 === 0) specs.push(['keep', (best -= 0.5)]);
      else specs.push(['discard', best + (trial % 11)]);
    }
    const chart = renderTrendChart(points(specs, 'minimize'), { width: 80, height: 10, direction: 'minimize' });
    const lines = expectShape(chart, { width: 80, height: 10 });
    const labels = lines[11] ?? '';
    expect(labels.trim().startsWith('0')).toBe(true);
    expect(labels.trim().endsWith('1000')).toBe(true);
    // Every column holds a measured trial, so no column is a gap.
    expect(lines[10]).not.toContain('x');
  });

  it('handles a single point', () => {
    const chart = renderTrendChart(points([['baseline', 42]]), { width: 80, height: 8, direction: 'maximize' });
    expectShape(chart, { width: 80, height: 8 });
    expect(chart).toContain('42 ┤★');
    expect(chart).toContain('trial 0');
  });

  it('handles all-equal values with a single label', () => {
    const chart = renderTrendChart(
      points([
        ['baseline', 5],
        ['discard', 5],
        ['discard', 5],
      ]),
      { width: 40, height: 5, direction: 'maximize' },
    );
    const lines = expectShape(chart, { width: 40, height: 5 });
    expect(lines.filter((line) => line.includes('┤'))).toHaveLength(1);
  });

  it('labels negative values', () => {
    const chart = renderTrendChart(
      points([
        ['baseline', -3.5],
        ['keep', -1.25],
        ['discard', -8],
      ]),
      { width: 50, height: 6, direction: 'maximize' },
    );
    const lines = expectShape(chart, { width: 50, height: 6 });
    expect(lines[0]).toMatch(/^-1\.25 ┤/);
    expect(lines[5]).toMatch(/^\s*-8 ┤/);
  });

  it('says so when no trial has a metric', () => {
    expect(renderTrendChart(points([['crash', null]]), { width: 80, height: 8, direction: 'maximize' })).toBe(
      'No measured trials to chart.',
    );
  });

  it('charts a run of 70,000 trials (two values a trial spread into Math.min overflowed the stack)', () => {
    const specs = Array.from({ length: 70_000 }, (_, i): [Outcome, number | null] => [i === 0 ? 'baseline' : i % 5000 === 0 ? 'keep' : 'discard', 100 + (i % 5000 === 0 ? i / 1000 : (i % 97) / 10)]);
    const chart = renderTrendChart(points(specs), { width: 70, height: 8, direction: 'maximize' });
    const lines = expectShape(chart, { width: 70, height: 8 });
    // The axis runs from the lowest drawn value, the baseline's 100, to the best, trial 65,000's 165.
    expect(lines[0]).toMatch(/^ *165 ┤/);
    expect(lines[7]).toMatch(/^ *100 ┤/);
    expect(lines.at(-2)).toMatch(/^ +0 +trial +69999$/);
  });
});
