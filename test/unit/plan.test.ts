import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/loop/outcome.js';
import { planFor } from '../../src/loop/plan.js';

const trial = { trial: 4, sha: 'c4', parent: 'c3', baseline: false };
const baseline = { trial: 0, sha: 'c0', parent: 'c0', baseline: true };

describe('planFor: what a decision leads to', () => {
  it.each<[string, typeof trial, Outcome, number | null, ReturnType<typeof planFor>]>([
    ['a keep advances the incumbent', trial, 'keep', 7, { kind: 'advance', to: 'c4', best: 7 }],
    ['a discard goes back and is tagged', trial, 'discard', 5, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: true }],
    ['a crash goes back and is tagged', trial, 'crash', null, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: true }],
    ['a violation goes back and is tagged', trial, 'violation', null, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: true }],
    ['a stop goes back untagged: nothing failed', trial, 'stopped', null, { kind: 'revert', trial: 4, sha: 'c4', to: 'c3', tag: false }],
    ['a measured baseline is the first incumbent', baseline, 'baseline', 1.5, { kind: 'advance', to: 'c0', best: 1.5 }],
    ['a baseline that crashed changes nothing', baseline, 'crash', null, { kind: 'none' }],
    ['a baseline that was stopped changes nothing', baseline, 'stopped', null, { kind: 'none' }],
  ])('%s', (_, measured, outcome, metric, expected) => {
    expect(planFor(measured, outcome, metric)).toEqual(expected);
  });
});
