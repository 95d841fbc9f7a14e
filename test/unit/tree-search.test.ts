import { describe, expect, it } from 'vitest';
import { treeTrial } from '../helpers/tree-trials.js';
import type { TrialSummary } from '../../src/loop/events.js';
import { readTree } from '../../src/core/trial-tree.js';
import { chooseTree, summarizeSubtrees, type TreeSettings } from '../../src/loop/tree-search.js';

const trial = treeTrial;
const fails = (from: number, count: number, base: string, metric = 0) => Array.from({ length: count }, (_, i) => trial(from + i, 'discard', `x${from + i}`, metric, base));
const choose = (trials: TrialSummary[], settings: TreeSettings, inFlight: string[] = [], direction: 'maximize' | 'minimize' = 'maximize') =>
  chooseTree(trials, trials[0]!.commit, direction, settings, inFlight).parent;

// (maximize) c0 (1) ─┬─ c1 keep (3) ── c3 keep (4) ── x5, x6 discard, x7 crash
//                    ├─ c2 keep (2) ── c4 keep (2.5)
//                    └─ x8 discard
const fixture = [
  trial(0, 'baseline', 'c0', 1),
  trial(1, 'keep', 'c1', 3, 'c0'),
  trial(2, 'keep', 'c2', 2, 'c0'),
  trial(3, 'keep', 'c3', 4, 'c1'),
  trial(4, 'keep', 'c4', 2.5, 'c2'),
  trial(5, 'discard', 'x5', 3.5, 'c3'),
  trial(6, 'discard', 'x6', 3, 'c3'),
  trial(7, 'crash', 'x7', null, 'c3'),
  trial(8, 'discard', 'x8', 0.5, 'c0'),
];

// A broad peak and a narrow path (maximize): p1 (5) ── p2 (6), then six failures around them;
// r1 (1) ── r2 (2) ── r3 (3), each kept on the one before, the last trials of the run.
const peakAndPath = [
  trial(0, 'baseline', 'c0', 0),
  trial(1, 'keep', 'p1', 5, 'c0'),
  trial(2, 'keep', 'p2', 6, 'p1'),
  ...fails(3, 3, 'p2', 5.5),
  ...fails(6, 3, 'p1', 4),
  trial(9, 'keep', 'r1', 1, 'c0'),
  trial(10, 'keep', 'r2', 2, 'r1'),
  trial(11, 'keep', 'r3', 3, 'r2'),
];

describe('tree search: where the next proposal starts', () => {
  it.each<[string, TrialSummary[], TreeSettings, string[], string]>([
    ['a single node: the baseline', [trial(0, 'baseline', 'c0', 1)], { exploration: 0.5, prune_after: 3 }, [], 'c0'],
    ['a single node, pruned: still the baseline', [trial(0, 'baseline', 'c0', 1), ...fails(1, 3, 'c0')], { exploration: 0.5, prune_after: 3 }, [], 'c0'],
    ['no exploration: the better subtree, down to its best open node', fixture, { exploration: 0, prune_after: 4 }, [], 'c3'],
    // c1's subtree has had 3 trials since its best: 0.5^(3/3) · 1 ties c2's 0.5 · 1; the earlier wins.
    ['a tie between two subtrees: the earlier child', fixture, { exploration: 0, prune_after: 3 }, [], 'c1'],
    ['a strong exploration term: the subtree tried least', fixture, { exploration: 5, prune_after: 4 }, [], 'c4'],
    // Three proposals in flight on c3 count as three more trials without a gain (virtual loss).
    ['proposals in flight push the next one elsewhere', fixture, { exploration: 0, prune_after: 4 }, ['c3', 'c3', 'c3'], 'c4'],
    // The peak's subtree is better (6) but has gone six trials without a gain: 0.5^(6/3) = 0.25
    // against the path's 3/6 = 0.5 that has just improved.
    ['a subtree that stopped improving gives way to one that climbs', peakAndPath, { exploration: 0, prune_after: 3 }, [], 'r3'],
    ['... unless it is far behind: with a longer memory the peak keeps its turn', peakAndPath, { exploration: 0, prune_after: 12 }, [], 'p2'],
  ])('%s', (_, trials, settings, inFlight, parent) => {
    expect(choose(trials, settings, inFlight)).toBe(parent);
  });

  it('passes through a pruned node to the open node below it', () => {
    // c1's last three children failed (pruned), but c3, kept on it, is open.
    const trials = [trial(0, 'baseline', 'c0', 0), trial(1, 'keep', 'c1', 1, 'c0'), trial(2, 'keep', 'c3', 2, 'c1'), ...fails(3, 3, 'c1')];
    expect(choose(trials, { exploration: 0, prune_after: 3 })).toBe('c3');
    // c3 pruned too: nothing below the baseline is open, so the baseline itself.
    expect(choose([...trials, ...fails(6, 3, 'c3')], { exploration: 0, prune_after: 3 })).toBe('c0');
  });

  it('reads minimize as maximize of the negated metric', () => {
    const negate = (t: TrialSummary) => ({ ...t, metric: t.metric === null ? null : -t.metric });
    for (const settings of [{ exploration: 0, prune_after: 3 }, { exploration: 0, prune_after: 4 }, { exploration: 5, prune_after: 4 }]) {
      expect(choose(fixture.map(negate), settings, [], 'minimize')).toBe(choose(fixture, settings));
    }
  });

  it('says where it goes and why, in one line', () => {
    const why = chooseTree(fixture, 'c3', 'maximize', { exploration: 0, prune_after: 4 }).why;
    expect(why).toBe('tree search: trial 0 → 1 → 3 (3 tried from it; 3 since its subtree last improved)');
    expect(chooseTree([trial(0, 'baseline', 'c0', 1)], 'c0', 'maximize', { exploration: 0, prune_after: 3 }).why).toBe('tree search: trial 0 (0 tried from it)');
    expect(chooseTree([], 'c0', 'maximize', { exploration: 0.5, prune_after: 3 })).toEqual({ parent: 'c0', why: 'no measured node yet' });
  });
});

describe('subtrees, read in trial order', () => {
  it('counts the trials below each node and those since its best last improved', () => {
    const stats = summarizeSubtrees(readTree(fixture), 'maximize', 3);
    const view = (c: string) => {
      const s = stats.get(c)!;
      return [s.best, s.tries, s.stale, s.ownTries, s.expandable, s.open];
    };
    expect(view('c0')).toEqual([4, 8, 5, 3, true, true]);
    expect(view('c1')).toEqual([4, 4, 3, 1, true, true]);
    expect(view('c3')).toEqual([4, 3, 3, 3, false, false]);
    expect(view('c2')).toEqual([2.5, 1, 0, 1, true, true]);
    expect(view('c4')).toEqual([2.5, 0, 0, 0, true, true]);
  });
});
