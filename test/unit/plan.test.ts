import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/loop/outcome.js';
import { planFor, type Measured } from '../../src/loop/plan.js';

const trial: Measured = { trial: 4, sha: 'c4', base: 'c3', baseline: false, inProject: true, files: ['a.py'] };
const inSlot: Measured = { ...trial, inProject: false };
const baseline: Measured = { trial: 0, sha: 'c0', base: 'c0', baseline: true, inProject: true, files: [] };

describe('planFor: what a decision leads to', () => {
  it.each<[string, Measured, Outcome, number | null, ReturnType<typeof planFor>]>([
    ['a keep advances the incumbent', trial, 'keep', 7, { kind: 'advance', trial: 4, to: 'c4', best: 7, files: ['a.py'] }],
    ['a discard goes back and is tagged', trial, 'discard', 5, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: true, move: true }],
    ['a crash goes back and is tagged', trial, 'crash', null, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: true, move: true }],
    ['a violation goes back and is tagged', trial, 'violation', null, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: true, move: true }],
    ['a stop goes back untagged: nothing failed', trial, 'stopped', null, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: false, move: true }],
    ['a stale result goes back untagged: nothing failed', trial, 'stale', 9, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: false, move: true }],
    ['a discard measured in a slot is tagged, the branch never moved', inSlot, 'discard', 5, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: true, move: false }],
    ['a keep measured in a slot advances the incumbent', inSlot, 'keep', 7, { kind: 'advance', trial: 4, to: 'c4', best: 7, files: ['a.py'] }],
    ['a measured baseline is the first incumbent', baseline, 'baseline', 1.5, { kind: 'advance', trial: 0, to: 'c0', best: 1.5, files: [] }],
    ['a baseline that crashed changes nothing', baseline, 'crash', null, { kind: 'none' }],
    ['a baseline that was stopped changes nothing', baseline, 'stopped', null, { kind: 'none' }],
  ])('%s', (_, measured, outcome, metric, expected) => {
    expect(planFor(measured, outcome, metric)).toEqual(expected);
  });
});
