import { describe, expect, it } from 'vitest';
import { foldRun } from '../../src/store/fold-run.js';
import { readSummary } from '../../src/store/read-event.js';
import { resultRowOf, rowsOfView } from '../../src/store/result-row-of.js';
import { ev, header, sha, summaryOf } from '../helpers/ledger-events.js';

// The ledger carries every raw value (TrialSummary.samples); results.tsv the aggregate and a count.
const baselineEnd = (extra: Record<string, unknown>) => [
  ev('trial.start', { n: 0, parent: sha(1), baseline: true }),
  ev('trial.end', { n: 0, summary: { ...summaryOf(0, 'baseline', 10, sha(1)), ...extra }, at: 'at-0' }),
];

describe('the noise floor in the run view', () => {
  it.each([
    ['three baseline samples', { samples: [9, 10, 11] }, { n: 3, mean: 10, sd: 1, cv: 0.1, aggregate: 10 }],
    ['one sample: no floor', { samples: [10] }, null],
    ['a record of an older version', {}, null],
    ['a deterministic metric: a floor of 0', { samples: [10, 10, 10] }, { n: 3, mean: 10, sd: 0, cv: 0, aggregate: 10 }],
    // JSON writes NaN as null; a hand-edited ledger may hold anything: only finite values count.
    ['unusable values are dropped', { samples: [9, null, 'x', 11, Number.POSITIVE_INFINITY] }, { n: 2, mean: 10, sd: Math.SQRT2, cv: Math.SQRT2 / 10, aggregate: 10 }],
    ['samples that are no list', { samples: 'many' }, null],
  ])('%s', (_name, extra, noise) => {
    const view = foldRun([...header, ...baselineEnd(extra)], { direction: 'maximize' });
    if (noise === null) expect(view.noise).toBeNull();
    else for (const [key, value] of Object.entries(noise)) expect(view.noise![key as keyof typeof noise]).toBeCloseTo(value, 12);
  });

  it('is none before the baseline is recorded', () => {
    expect(foldRun([...header, ev('trial.start', { n: 0, parent: sha(1), baseline: true })]).noise).toBeNull();
  });
});

describe('samples in records and rows', () => {
  const kept = { ...summaryOf(3, 'keep', 12), samples: [13, 12, 11.5, 12.2], incumbentSamples: [10, 10.2, 9.9], margin: 1.9, p: 0.004 };

  it('a well-formed record reads back as written', () => {
    expect(readSummary(kept, 3)).toEqual(kept);
  });

  it('a record with bad sample fields keeps what it can', () => {
    const read = readSummary({ ...kept, samples: [1, 'two', 3], incumbentSamples: 5, margin: 'big', p: null }, 3)!;
    expect(read.samples).toEqual([1, 3]);
    expect(read).not.toHaveProperty('incumbentSamples');
    expect(read).not.toHaveProperty('margin');
    expect(read).not.toHaveProperty('p');
  });

  it('the row counts the measurements and carries the raw values for the reports', () => {
    const row = resultRowOf('t', kept, 'at');
    expect(row).toMatchObject({ metric: 12, measurements: 4, samples: kept.samples, incumbentSamples: kept.incumbentSamples, margin: 1.9, p: 0.004 });
    expect(resultRowOf('t', summaryOf(4, 'discard', 1), 'at')).not.toHaveProperty('measurements');
    const view = foldRun([...header, ...baselineEnd({ samples: [9, 10, 11] }), ev('trial.start', { n: 3, parent: sha(1) }), ev('trial.end', { n: 3, summary: kept, at: 'at-3' })]);
    expect(rowsOfView('t', view).map((r) => r.measurements)).toEqual([3, 4]);
  });
});
