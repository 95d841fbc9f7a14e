import { describe, expect, it } from 'vitest';
import { judgeCandidate, type JudgeInput } from '../../src/core/confirm-rule.js';
import { NO_MIN_IMPROVEMENT } from '../../src/core/min-improvement.js';
import { noiseFloorOf, resolveBaselineRepeats, resolveConfirm } from '../../src/core/noise-floor.js';

const base: JudgeInput = {
  candidate: [],
  incumbent: [],
  incumbentMetric: 100,
  direction: 'maximize',
  minImprovement: NO_MIN_IMPROVEMENT,
  confidence: 0.95,
  maxMeasurements: 8,
  noise: { n: 3, sd: 1 },
};
const judge = (overrides: Partial<JudgeInput>) => judgeCandidate({ ...base, ...overrides });

describe('judgeCandidate: the first measurement', () => {
  it.each<[string, Partial<JudgeInput>, string, RegExp]>([
    ['a loser is discarded at once', { candidate: [97] }, 'discard', /worse/],
    ['a tie is no improvement', { candidate: [100] }, 'discard', /equal/],
    ['a minimizing loser', { candidate: [103], direction: 'minimize' }, 'discard', /worse/],
    ['a winner is confirmed', { candidate: [102] }, 'measure-again', /confirming/],
    ['a minimizing winner is confirmed', { candidate: [98], direction: 'minimize' }, 'measure-again', /confirming/],
    ['a winner is kept at once with confirm off', { candidate: [102], confirm: false }, 'keep', /not confirmed/],
    ['no room to confirm: kept on one measurement', { candidate: [102], maxMeasurements: 1 }, 'keep', /not confirmed/],
    ['under an absolute min_improvement', { candidate: [100.5], minImprovement: { kind: 'absolute', value: 1 } }, 'discard', /min_improvement/],
    ['under a percentage min_improvement', { candidate: [101.5], minImprovement: { kind: 'percent', value: 2 } }, 'discard', /min_improvement/],
    ['over a percentage min_improvement', { candidate: [102.5], minImprovement: { kind: 'percent', value: 2 } }, 'measure-again', /confirming/],
    ['repeats: their median counts', { candidate: [90, 103, 104] }, 'measure-again', /better by 3 /],
    ['repeats with a mean', { candidate: [90, 103, 104], aggregate: 'mean' }, 'discard', /worse/],
    ['NaN only: nothing measured', { candidate: [Number.NaN] }, 'discard', /no valid/],
    ['NaN among repeats is skipped', { candidate: [Number.NaN, 102] }, 'measure-again', /confirming/],
    ['nothing to beat: kept', { candidate: [1], incumbentMetric: null }, 'keep', /nothing measured/],
  ])('%s', (_name, overrides, verdict, reason) => {
    const judgement = judge(overrides);
    expect(judgement.verdict).toBe(verdict);
    expect(judgement.reason).toMatch(reason);
    expect(judgement.p).toBeNull();
  });

  it('reports the margin in metric units, positive when better', () => {
    expect(judge({ candidate: [102] }).margin).toBe(2);
    expect(judge({ candidate: [97], direction: 'minimize' }).margin).toBe(3);
  });
});

describe('judgeCandidate: confirm pairs', () => {
  it.each<[string, Partial<JudgeInput>, string]>([
    // The first value (105) is left out of the test: only the pairs count.
    ['a clear, consistent gain is kept', { candidate: [105, 104, 104.2, 103.9, 104.1], incumbent: [100, 100.1, 99.9, 100] }, 'keep'],
    ['one pair is not yet enough', { candidate: [105, 104], incumbent: [100] }, 'measure-again'],
    ['pairs that do not beat the incumbent: discarded', { candidate: [105, 100, 99.5], incumbent: [100, 100.2] }, 'discard'],
    ['a tie over pairs: discarded', { candidate: [105, 100, 100], incumbent: [100, 100] }, 'discard'],
    ['not significant at the cap: discarded', { candidate: [105, 101, 99.8, 101.5], incumbent: [100, 100.5, 99.6], maxMeasurements: 4 }, 'discard'],
    ['positive but noisy: measured again', { candidate: [105, 101.5, 100.2], incumbent: [100, 100.4] }, 'measure-again'],
    ['zero variance and a gain: kept', { candidate: [105, 101, 101], incumbent: [100, 100], noise: { n: 3, sd: 0 } }, 'keep'],
    ['zero variance and no gain: discarded', { candidate: [105, 100, 100], incumbent: [100, 100], noise: { n: 3, sd: 0 } }, 'discard'],
    ['a NaN pair is skipped', { candidate: [105, Number.NaN, 100, 99], incumbent: [100, 100, 100] }, 'discard'],
    ['only NaN pairs at the cap: discarded', { candidate: [105, Number.NaN], incumbent: [100], maxMeasurements: 2 }, 'discard'],
    ['only NaN pairs: measured again', { candidate: [105, Number.NaN], incumbent: [100] }, 'measure-again'],
    ['minimize: lower pairs are kept', { candidate: [95, 96, 95.9, 96.1, 96], incumbent: [100, 100.1, 99.9, 100], direction: 'minimize' }, 'keep'],
    ['a gain under min_improvement is discarded', { candidate: [105, 100.5, 100.4], incumbent: [100, 100], minImprovement: { kind: 'absolute', value: 1 } }, 'discard'],
    ['no noise floor: one pair has no variance to test', { candidate: [105, 104], incumbent: [100], noise: null }, 'measure-again'],
  ])('%s', (_name, overrides, verdict) => {
    expect(judge(overrides).verdict).toBe(verdict);
  });

  it('rests on the pairs only: a lucky first value does not make a tie significant', () => {
    const judgement = judge({ candidate: [200, 100, 100.1], incumbent: [100, 100] });
    expect(judgement.margin).toBeCloseTo(0.05, 10);
    expect(judgement.pairs).toBe(2);
    expect(judgement.verdict).not.toBe('keep');
  });

  it('pairs the confirm values after repeated first runs', () => {
    // Three first runs, then two pairs: candidate values 3 and 4 pair with the incumbent's 0 and 1.
    const judgement = judge({ candidate: [110, 111, 112, 101, 101.2], incumbent: [100, 100] });
    expect(judgement.pairs).toBe(2);
    expect(judgement.margin).toBeCloseTo(1.1, 10);
  });

  it('counts the first measurement as one, whatever its repeats: three repeats leave the same pairs as one', () => {
    // Not significant yet at 4 pairs: with one first run or three, a fifth pair is still allowed
    // (max_measurements 5 = the first measurement and 4 pairs).
    const pairs = { candidate: [101, 99.8, 101.5, 100.9], incumbent: [100, 100.5, 99.6, 100.2] };
    const once = judge({ candidate: [105, ...pairs.candidate], incumbent: pairs.incumbent, maxMeasurements: 6 });
    const thrice = judge({ candidate: [105, 104, 106, ...pairs.candidate], incumbent: pairs.incumbent, maxMeasurements: 6 });
    expect(once.verdict).toBe('measure-again');
    expect(thrice).toEqual(once);
    // At the cap (5 pairs), both are decided.
    const capped = { candidate: [...pairs.candidate, 100.6], incumbent: [...pairs.incumbent, 100.1] };
    expect(judge({ candidate: [105, ...capped.candidate], incumbent: capped.incumbent, maxMeasurements: 6 }).verdict).toBe('discard');
    expect(judge({ candidate: [105, 104, 106, ...capped.candidate], incumbent: capped.incumbent, maxMeasurements: 6 }).verdict).toBe('discard');
  });

  it('spends the error over the looks: the same data is kept with fewer looks allowed', () => {
    const data = { candidate: [103, 102.1, 101.8, 102.3], incumbent: [100, 100.2, 99.9] };
    const p = judge({ ...data, maxMeasurements: 4 }).p!;
    expect(p).toBeGreaterThan(0.05 / 7);
    expect(p).toBeLessThan(0.05 / 3);
    expect(judge({ ...data, maxMeasurements: 4 }).verdict).toBe('keep');
    expect(judge({ ...data, maxMeasurements: 8 }).verdict).toBe('measure-again');
  });
});

describe('the noise floor and its defaults', () => {
  it('comes from at least two finite baseline samples', () => {
    expect(noiseFloorOf({ samples: [10, 12, 14], metric: 12 })).toEqual({ n: 3, mean: 12, sd: 2, cv: 2 / 12, aggregate: 12 });
    expect(noiseFloorOf({ samples: [10], metric: 10 })).toBeNull();
    expect(noiseFloorOf({ metric: 10 })).toBeNull();
    expect(noiseFloorOf(null)).toBeNull();
    expect(noiseFloorOf({ samples: [0, 0], metric: 0 })).toEqual({ n: 2, mean: 0, sd: 0, cv: null, aggregate: 0 });
  });

  it.each([
    [null, 5_000, 3],
    [null, 59_999, 3],
    [null, 60_000, 1],
    [5, 120_000, 5],
    [1, 10, 1],
  ])('baseline_repeats %s with a first run of %i ms: %i', (configured, ms, expected) => expect(resolveBaselineRepeats(configured, ms)).toBe(expected));

  it.each([
    [null, { sd: 0.5 }, true],
    [null, { sd: 0 }, false],
    [null, null, true],
    [false, { sd: 3 }, false],
    [true, { sd: 0 }, true],
  ])('confirm %s with noise %o: %s', (configured, noise, expected) => expect(resolveConfirm(configured, noise)).toBe(expected));
});
