import { describe, expect, it } from 'vitest';
import { expectedHeadAtResume } from '../../src/loop/expected-head.js';
import { foldRun } from '../../src/store/fold-run.js';
import { baseline, header, parallelTrial, sha, steps, trial } from '../helpers/ledger-events.js';

const view = (events: Parameters<typeof foldRun>[0]) => foldRun(events, { direction: 'maximize' });

describe('expectedHeadAtResume: where the run branch must be when a run resumes', () => {
  it('serial: the last keep, also when later trials were discarded', () => {
    const events = [...header, ...baseline(1), ...trial(1, sha(1), 'keep', 2), ...trial(2, sha(101), 'discard', 1)];
    expect(expectedHeadAtResume(view(events))).toBe(sha(101));
  });

  it('parallel: the tip of the chain of keeps, not the keep or the trial with the highest number', () => {
    // Trial 3 is kept first (on the baseline); trial 2, slower, is rebased onto it and kept after it;
    // trial 4, the last by number, is a discard made on the baseline.
    const events = [
      ...header,
      ...baseline(1),
      ...parallelTrial(3, { parent: sha(1), outcome: 'keep', metric: 3, slot: 1 }),
      ...parallelTrial(4, { parent: sha(1), outcome: 'discard', metric: 0, slot: 1 }),
      ...parallelTrial(2, { parent: sha(1), onto: sha(103), outcome: 'keep', metric: 5, slot: 2 }),
    ];
    expect(expectedHeadAtResume(view(events))).toBe(sha(202));
  });

  it('null while a trial is in flight: the recovery decides from its own events', () => {
    const events = [...header, ...baseline(1), ...trial(1, sha(1), 'keep', 2), steps.start(2, sha(101))];
    expect(expectedHeadAtResume(view(events))).toBeNull();
  });
});
