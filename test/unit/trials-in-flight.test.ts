import { describe, expect, it } from 'vitest';
import { adaptiveTrialsInFlight, trialsInFlightFor } from '../../src/loop/trials-in-flight.js';

describe('trials in flight when parallel.agents is not set', () => {
  it.each([
    ['nothing measured yet: N + 1', 8, [], [], 9],
    ['one slot never goes past 2', 1, [60_000], [10_000], 2],
    ['short turns against long experiments: N + 1', 4, [500], [60_000], 5],
    ['turns a quarter of an experiment at N = 8: two more proposals', 8, [500], [2000], 10],
    ['turns as long as an experiment: capped at 2N', 4, [2000], [2000], 8],
    ['turns far longer: capped at 2N', 8, [120_000], [10_000], 16],
    ['the median, not one slow turn', 8, [500, 500, 30_000], [2000, 2000, 2000], 10],
  ])('%s', (_name, slots, turns, runs, expected) => {
    expect(trialsInFlightFor(slots, turns, runs)).toBe(expected);
  });

  it('follows the recent pace: old turns leave the window', () => {
    const limit = adaptiveTrialsInFlight(8);
    for (let i = 0; i < 16; i++) limit.experimentRun(2000);
    for (let i = 0; i < 16; i++) limit.agentTurn(4000);
    expect(limit.limit()).toBe(16);
    for (let i = 0; i < 16; i++) limit.agentTurn(250);
    expect(limit.limit()).toBe(9);
  });
});
