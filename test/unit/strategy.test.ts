import { describe, expect, it } from 'vitest';
import type { TrialSummary } from '../../src/loop/events.js';
import { greedy } from '../../src/loop/strategy.js';

const trial = (n: number, outcome: TrialSummary['outcome'], commit: string, metric: number | null): TrialSummary => ({
  trial: n,
  outcome,
  metric,
  description: `t${n}`,
  commit,
  files: [],
  best: null,
  agentMs: 0,
  runMs: 0,
  totalMs: 0,
  costUsd: null,
});

describe('the greedy strategy', () => {
  it.each([
    ['only the baseline', [trial(0, 'baseline', 'c0', 1)], 'c0'],
    ['after a keep and a discard', [trial(0, 'baseline', 'c0', 1), trial(1, 'keep', 'c1', 2), trial(2, 'discard', 'c2', 1.5)], 'c1'],
  ])('starts every proposal from the incumbent (%s) and never stops the run itself', (_, trials, incumbent) => {
    expect(greedy.chooseParent({ incumbent, trials })).toBe(incumbent);
    expect(greedy.stopReason({ incumbent, trials })).toBeNull();
  });
});
