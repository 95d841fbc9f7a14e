import { describe, expect, it } from 'vitest';
import type { TrialView } from '../../src/agents/types.js';
import { outcomes, type Outcome } from '../../src/core/outcome.js';
import { digestHistory } from '../../src/prompt/history-digest.js';

/** A run's history: a baseline, then trials of every outcome, some with a diff, seeded. */
function history(size: number, seed: number): TrialView[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const kinds = outcomes.filter((o) => o !== 'baseline');
  const trials: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' }];
  for (let n = 1; n < size; n++) {
    const outcome: Outcome = kinds[Math.floor(next() * kinds.length)]!;
    const metric = outcome === 'keep' || outcome === 'discard' ? Math.round(next() * 1000) / 1000 : null;
    trials.push(Object.freeze({ trial: n, outcome, metric, description: `trial ${n}`, ...(next() < 0.5 ? { diff: `-a\n+${n}` } : {}) }));
  }
  return trials;
}

/**
 * The digest computed afresh, the reference: after a longer, unrelated history, whose digest no
 * other can carry on, of the same records under other identities.
 */
const unrelated = history(1000, 99);
const afresh = (trials: readonly TrialView[], direction: 'minimize' | 'maximize') => {
  digestHistory(unrelated, direction);
  return digestHistory(trials.map((t) => ({ ...t })), direction);
};

describe('digestHistory', () => {
  it('carried from one prompt to the next is the digest of the whole history, trial after trial', () => {
    const all = history(400, 7);
    const sizes: number[] = [];
    for (let size = 1; size <= all.length; size += 1 + (size % 7)) sizes.push(size);
    // One prompt after another, each carrying the last one's digest on.
    const carried = sizes.map((size) => digestHistory(all.slice(0, size), 'minimize'));
    sizes.forEach((size, i) => expect(carried[i]).toEqual(afresh(all.slice(0, size), 'minimize')));
  });

  it('reads the history whole when it does not begin with what was seen: a trial placed before the last, another direction, another run', () => {
    const all = history(200, 11);
    all[149] = { trial: 149, outcome: 'discard', metric: 2, description: 'trial 149', diff: '-a\n+149' };
    all[150] = { trial: 150, outcome: 'keep', metric: 0.5, description: 'trial 150' };
    digestHistory(all.slice(0, 150), 'minimize');
    // Trial 149 was recorded after trial 150, which ended first (trials in flight): placed before it.
    const reordered = [...all.slice(0, 149), all[150]!, all[149]!, ...all.slice(151)];
    expect(digestHistory(reordered, 'minimize')).toEqual(afresh(reordered, 'minimize'));
    expect(digestHistory(reordered, 'maximize')).toEqual(afresh(reordered, 'maximize'));
    const other = history(50, 3);
    expect(digestHistory(other, 'maximize')).toEqual(afresh(other, 'maximize'));
  });

  it('is not changed by what a caller does to a digest it was given', () => {
    const all = history(120, 5);
    const first = digestHistory(all.slice(0, 100), 'minimize');
    first.lastDiscards.length = 0;
    first.counts.discard = -1;
    expect(digestHistory(all, 'minimize')).toEqual(afresh(all, 'minimize'));
  });
});
