import { describe, expect, it } from 'vitest';
import { keepRate, type SimulatedSettings } from '../helpers/noisy-trials.js';

// The keep rule alone against simulated noisy measurements (Gaussian, sd 1): no processes, so
// thousands of trials take well under a second. The end-to-end version drives the loop.
const defaults: SimulatedSettings = { baselineRepeats: 3, repeats: 1, aggregate: 'median', confirm: null, confidence: 0.95, maxMeasurements: 8 };
const TRIALS = 2000;

describe('the keep rule under noise, with the defaults', () => {
  it('keeps at most 5% of changes that are not better', () => {
    for (const [gain, seed] of [[0, 11], [-0.5, 12], [-1, 13]] as const) {
      expect(keepRate(defaults, gain, TRIALS, seed).rate).toBeLessThanOrEqual(0.05);
    }
  });

  it('keeps at least 90% of real improvements of three noise widths', () => {
    expect(keepRate(defaults, 3, TRIALS, 21).rate).toBeGreaterThanOrEqual(0.9);
    expect(keepRate({ ...defaults, direction: 'minimize' }, 3, TRIALS, 22).rate).toBeGreaterThanOrEqual(0.9);
  });

  it('keeps about half of the ties when confirmation is off (why it is on)', () => {
    const off = keepRate({ ...defaults, confirm: false }, 0, TRIALS, 31).rate;
    expect(off).toBeGreaterThan(0.4);
    expect(off).toBeLessThan(0.6);
  });

  it('stays under 5% false keeps with repeats and a mean', () => {
    expect(keepRate({ ...defaults, repeats: 3, aggregate: 'mean' }, 0, TRIALS, 41).rate).toBeLessThanOrEqual(0.05);
  });

  it('never keeps a tie when the metric is deterministic', () => {
    // Zero noise: the floor is 0, confirmation is off, and an equal value is no improvement.
    expect(keepRate(defaults, 0, 200, 51, 0).rate).toBe(0);
    expect(keepRate(defaults, 0.001, 200, 52, 0).rate).toBe(1);
  });
});

describe('the keep rule under noise, with repeats', () => {
  // max_measurements counts measurements, and the first one is one whatever its repeats: the
  // repeats would otherwise use up the confirm pairs (decisions.md), and a change measured more
  // carefully at first would be kept less often.
  const repeats: SimulatedSettings = { ...defaults, repeats: 3 };

  it('keeps real improvements of three noise widths as often as without repeats', () => {
    // 97.5% with one run per first measurement; 93% here when the repeats used up the budget.
    expect(keepRate(repeats, 3, TRIALS, 61).rate).toBeGreaterThanOrEqual(0.97);
  });

  it('keeps at most 5% of changes that are not better', () => {
    for (const [gain, seed] of [[0, 62], [-0.5, 63]] as const) {
      expect(keepRate(repeats, gain, TRIALS, seed).rate).toBeLessThanOrEqual(0.05);
    }
  });
});
