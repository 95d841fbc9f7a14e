import { describe, expect, it } from 'vitest';
import { treeTrial } from '../helpers/tree-trials.js';
import type { TrialSummary } from '../../src/loop/events.js';
import {
  DEFAULT_SEARCH,
  chooseBeam,
  chooseRestart,
  chooseTree,
  createStrategy,
  greedy,
  lineage,
  siblingsTried,
  stopWhenReached,
  type SearchSettings,
} from '../../src/loop/strategy.js';

const trial = treeTrial;

const settings = (over: Partial<SearchSettings> = {}): SearchSettings => ({ ...DEFAULT_SEARCH, ...over });

// A tree (maximize): c0 (1) ─┬─ c1 keep (3) ── c3 keep (4) ── c5 discard, c6 discard, c7 crash
//                            ├─ c2 keep (2) ── c4 keep (2.5)
//                            └─ discard
const tree = [
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

describe('the greedy strategy', () => {
  it.each([
    ['only the baseline', [trial(0, 'baseline', 'c0', 1)], 'c0'],
    ['after a keep and a discard', [trial(0, 'baseline', 'c0', 1), trial(1, 'keep', 'c1', 2), trial(2, 'discard', 'c2', 1.5)], 'c1'],
  ])('starts every proposal from the incumbent (%s) and never stops the run itself', (_, trials, incumbent) => {
    expect(greedy.chooseParent({ incumbent, trials })).toBe(incumbent);
    expect(greedy.choose({ incumbent, trials }).parent).toBe(incumbent);
    expect(greedy.stopReason({ incumbent, trials })).toBeNull();
    expect(createStrategy(settings(), 'maximize')).toBe(greedy);
  });
});

describe('restart', () => {
  const chain = (outcomes: TrialSummary['outcome'][]) => {
    const trials = [trial(0, 'baseline', 'c0', 1), trial(1, 'keep', 'c1', 2, 'c0'), trial(2, 'keep', 'c2', 1.5, 'c0')];
    outcomes.forEach((o, i) => trials.push(trial(3 + i, o, `x${i}`, o === 'crash' ? null : 1, 'c2')));
    return trials;
  };
  it.each([
    ['no failures yet', [], 'baseline', 'c2'],
    ['two failures, plateau 3', ['discard', 'crash'], 'baseline', 'c2'],
    ['three failures: back to the baseline', ['discard', 'crash', 'discard'], 'baseline', 'c0'],
    ['three failures: back to the best', ['discard', 'crash', 'discard'], 'best', 'c1'],
    ['an agent error is no measurement', ['discard', 'agent-error', 'discard'], 'baseline', 'c2'],
  ] as const)('%s', (_, outcomes, from, parent) => {
    const state = { incumbent: 'c1', trials: chain([...outcomes]) };
    expect(chooseRestart(state, 'maximize', { plateau: 3, restart_from: from }).parent).toBe(parent);
  });
});

describe('beam', () => {
  it('keeps one incumbent per branch: the best node of each lineage, none an ancestor of another', () => {
    const state = { incumbent: 'c3', trials: tree };
    // Heads: c3 (4, lineage c1) and c4 (2.5, lineage c2). c3 has three children, c4 none.
    expect(chooseBeam(state, 'maximize', 3)).toMatchObject({ parent: 'c4', branch: 1 });
    expect(chooseBeam(state, 'maximize', 1)).toMatchObject({ parent: 'c3', branch: 0 });
    // Proposals in flight count: with four on c4 the best branch gets the next one.
    expect(chooseBeam({ ...state, inFlightParents: ['c4', 'c4', 'c4', 'c4'] }, 'maximize', 2)).toMatchObject({ parent: 'c3', branch: 0 });
  });

  it('opens another branch from the baseline while there are fewer than the width, once the baseline is tried less', () => {
    // One chain: c0 (1) ── c1 keep (2) ── c2 keep (3) ── x3 discard. A serial beam never branches
    // otherwise: every keep descends from the head it was proposed from.
    const chain = [trial(0, 'baseline', 'c0', 1), trial(1, 'keep', 'c1', 2, 'c0'), trial(2, 'keep', 'c2', 3, 'c1'), trial(3, 'discard', 'x3', 2, 'c2')];
    const state = { incumbent: 'c2', trials: chain };
    expect(chooseBeam(state, 'maximize', 2)).toMatchObject({ parent: 'c0', branch: 1 });
    expect(chooseBeam(state, 'maximize', 1)).toMatchObject({ parent: 'c2', branch: 0 });
    // The baseline tried as often as the branch (a proposal in flight on it): the branch goes first.
    expect(chooseBeam({ ...state, inFlightParents: ['c0', 'c0'] }, 'maximize', 2)).toMatchObject({ parent: 'c2', branch: 0 });
    // A change kept on the baseline off the chain is the second branch's head.
    const branched = [...chain, trial(4, 'keep', 'c4', 1.5, 'c0')];
    expect(chooseBeam({ incumbent: 'c2', trials: branched }, 'maximize', 2)).toMatchObject({ parent: 'c4', branch: 1 });
  });

  it('starts from the baseline before anything is kept', () => {
    expect(chooseBeam({ incumbent: 'c0', trials: [trial(0, 'baseline', 'c0', 1)] }, 'minimize', 3)).toMatchObject({ parent: 'c0', branch: 0 });
  });
});

describe('tree', () => {
  it.each([
    // No exploration: c1's subtree (best 4, three trials since) ties c2's (2.5 of 4, none since);
    // the earlier wins. At K = 3, c3 is pruned, so c1 itself is chosen; at K = 4, c3.
    [0, 3, 'c1'],
    [0, 4, 'c3'],
    // A strong exploration term favours the subtree tried least, and there its untried c4.
    [5, 4, 'c4'],
  ])('exploration %s, prune after %s → %s', (exploration, prune, parent) => {
    expect(chooseTree({ incumbent: 'c3', trials: tree }, 'maximize', { exploration, prune_after: prune }).parent).toBe(parent);
  });

  it('never prunes the baseline: the run goes on from it when its last K children all failed', () => {
    const dead = [trial(0, 'baseline', 'c0', 1), ...[1, 2].map((n) => trial(n, 'discard', `x${n}`, 0, 'c0'))];
    const strategy = createStrategy(settings({ strategy: 'tree', prune_after: 2 }), 'maximize');
    expect(strategy.stopReason({ incumbent: 'c0', trials: dead })).toBeNull();
    expect(strategy.chooseParent({ incumbent: 'c0', trials: dead })).toBe('c0');
  });
});

describe('stop_when', () => {
  it.each([
    ['target reached', 4, null, /target 4/],
    ['target not reached', 4.5, null, null],
    ['patience 6, five trials since the best', null, 6, null],
    ['patience 5, five trials since the best', null, 5, /no improvement in 5/],
  ])('%s', (_, target, patience, expected) => {
    const reason = stopWhenReached(tree, 'maximize', target, patience);
    if (expected === null) expect(reason).toBeNull();
    else expect(reason).toMatch(expected);
  });

  it('minimizing: the target is a ceiling', () => {
    expect(stopWhenReached(tree, 'minimize', 1, null)).toMatch(/target 1/);
    expect(stopWhenReached(tree, 'minimize', 0.9, null)).toBeNull();
  });
});

describe('lineage and siblings', () => {
  it('walks from the root to the node; siblings are what was tried from it', () => {
    expect(lineage(tree, 'c3').map((t) => t.trial)).toEqual([0, 1, 3]);
    expect(siblingsTried(tree, 'c3').map((t) => t.trial)).toEqual([5, 6, 7]);
    expect(siblingsTried(tree, 'c0').map((t) => t.trial)).toEqual([1, 2, 8]);
    expect(lineage(tree, 'nope')).toEqual([]);
  });

  it('reads records without parent or base as the chain they were', () => {
    const old = [trial(0, 'baseline', 'c0', 1), trial(1, 'keep', 'c1', 2), trial(2, 'discard', 'x2', 1), trial(3, 'keep', 'c3', 3)];
    expect(lineage(old, 'c3').map((t) => t.trial)).toEqual([0, 1, 3]);
    expect(siblingsTried(old, 'c1').map((t) => t.trial)).toEqual([2, 3]);
  });
});

describe('every strategy, over random trees', () => {
  it('always starts from a kept node of the tree', () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 50; round++) {
      const trials = [trial(0, 'baseline', 'c0', 1)];
      const kept = ['c0'];
      for (let n = 1; n < 25; n++) {
        const base = kept[Math.floor(next() * kept.length)]!;
        const r = next();
        const outcome = r < 0.4 ? 'keep' : r < 0.8 ? 'discard' : 'crash';
        trials.push(trial(n, outcome, `c${n}`, outcome === 'crash' ? null : next() * 10, base));
        if (outcome === 'keep') kept.push(`c${n}`);
      }
      for (const name of ['greedy', 'restart', 'beam', 'tree'] as const) {
        const strategy = createStrategy(settings({ strategy: name }), next() < 0.5 ? 'maximize' : 'minimize');
        expect(kept).toContain(strategy.chooseParent({ incumbent: kept.at(-1)!, trials }));
      }
    }
  });
});
