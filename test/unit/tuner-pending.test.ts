import { describe, expect, it } from 'vitest';
import type { TrialView } from '../../src/agents/types.js';
import type { Outcome } from '../../src/core/outcome.js';
import type { TunedParam, TuningChange } from '../../src/agents/tuner/types.js';
import type { DescribedChange } from '../../src/agents/tuner/description.js';
import { createRng, hashSeed, type Rng } from '../../src/agents/tuner/rng.js';
import { proposeTuning } from '../../src/agents/tuner/search.js';
import { readHistory, vectorKey } from '../../src/agents/tuner/history.js';
import { formatDescription } from '../../src/agents/tuner/description.js';

function param(name: string, value: number, range: Partial<TunedParam> & Pick<TunedParam, 'low' | 'high'>): TunedParam {
  return { name, file: 'f.js', line: 1, int: false, log: false, value, literal: String(value), column: 0, ...range };
}

const baseline: TrialView = { trial: 0, outcome: 'baseline', metric: 10, description: 'baseline' };
const trial = (n: number, outcome: Outcome, description: string): TrialView => ({ trial: n, outcome, metric: 1, description });
const cutoff = (value: number) => param('CUTOFF', value, { low: 2, high: 256, int: true, log: true });
const asPending = (changes: readonly TuningChange[]): DescribedChange[] => changes.map(({ name, from, to }) => ({ name, from, to }));
const pointOf = (params: readonly TunedParam[], changes: readonly DescribedChange[]) =>
  vectorKey(params, new Map([...params.map((p) => [p.name, p.value] as const), ...changes.map((c) => [c.name, c.to] as const)]));

/** Proposals for trials first..first+count-1 asked one after another, each seeing the ones before it in flight. */
function proposeInFlight(params: TunedParam[], history: TrialView[], first: number, count: number, seed = 0, maxChanges = 2) {
  const pending: DescribedChange[][] = [];
  for (let n = first; n < first + count; n++) {
    const { changes } = proposeTuning(params, history, createRng(hashSeed(seed, n)), { maxChanges, seed, pending });
    if (changes.length === 0) break;
    pending.push(asPending(changes));
  }
  return pending;
}

describe('proposeTuning with proposals in flight', () => {
  it('proposes exactly the serial proposal when nothing is in flight', () => {
    const params = [cutoff(8), param('LR', 0.01, { low: 1e-5, high: 1, log: true })];
    const history = [baseline, trial(1, 'keep', 'CUTOFF 4 → 8'), trial(2, 'discard', 'LR 0.01 → 0.02')];
    for (let seed = 1; seed <= 20; seed++) {
      const serial = proposeTuning(params, history, createRng(seed), { maxChanges: 2, seed: 0 });
      expect(proposeTuning(params, history, createRng(seed), { maxChanges: 2, seed: 0, pending: [] })).toEqual(serial);
    }
  });

  it('never proposes a point in flight or already measured, over many seeds and random runs', () => {
    let duplicates = 0;
    for (let seed = 0; seed < 300; seed++) {
      const rng = createRng(hashSeed('runs', seed));
      const params = randomParams(rng);
      const history = randomHistory(params, rng, seed);
      const inFlight = 2 + Math.floor(rng() * 7);
      const pending = proposeInFlight(params, history, history.length, inFlight, seed, 1 + Math.floor(rng() * 3));
      const points = pending.map((changes) => pointOf(params, changes));
      duplicates += points.length - new Set(points).size;
      const { tried } = readHistory(params, history);
      duplicates += points.filter((p) => tried.has(p)).length;
    }
    expect(duplicates).toBe(0);
  });

  it('polls both sides of the best at once instead of piling onto one direction', () => {
    // One constant, nothing learned yet: four proposals in flight go up and down, with different steps.
    for (let seed = 0; seed < 20; seed++) {
      const pending = proposeInFlight([cutoff(32)], [baseline], 1, 4, seed, 1);
      const moves = pending.map((changes) => changes[0]!.to - 32);
      expect(moves.some((m) => m > 0) && moves.some((m) => m < 0)).toBe(true);
      expect(new Set(moves).size).toBe(4);
    }
  });

  it('keeps going the way that helped, at other step sizes, while that way is being measured', () => {
    const history = [baseline, trial(1, 'keep', 'CUTOFF 8 → 16')];
    for (let seed = 0; seed < 20; seed++) {
      const moves = proposeInFlight([cutoff(16)], history, 2, 3, seed, 1).map((changes) => Math.log(changes[0]!.to / 16));
      expect(moves.every((move) => move > 0)).toBe(true);
      // Steps ×1, ×½ and ×2 of the usual one: a line search, not three draws around one point.
      expect(Math.max(...moves) / Math.min(...moves)).toBeGreaterThan(2);
    }
  });

  it('spreads proposals in flight over the constants', () => {
    const params = ['A', 'B', 'C', 'D'].map((name) => param(name, 0.5, { low: 0, high: 1 }));
    let spread = 0;
    for (let seed = 0; seed < 40; seed++) {
      const names = proposeInFlight(params, [baseline], 1, 4, seed, 1).map((changes) => changes[0]!.name);
      spread += new Set(names).size;
    }
    // Without the spreading, four independent picks among four equal constants average 2.7 distinct.
    expect(spread / 40).toBeGreaterThan(3);
  });

  it('ignores in-flight descriptions it cannot use: another agent, or constants that no longer exist', () => {
    const history = [baseline];
    const serial = proposeTuning([cutoff(8)], history, createRng(3), { maxChanges: 1, seed: 0 });
    const foreign = proposeTuning([cutoff(8)], history, createRng(3), { maxChanges: 1, seed: 0, pending: [[{ name: 'GONE', from: 1, to: 2 }]] });
    expect(foreign.changes).toEqual(serial.changes);
  });
});

describe('the tuner memory with results out of order', () => {
  it('learns the same from the same results whatever order they came back in', () => {
    const history = [baseline, trial(1, 'discard', 'CUTOFF 8 → 16'), trial(2, 'keep', 'LR 0.01 → 0.005'), trial(3, 'crash', 'CUTOFF 8 → 4')];
    const params = [cutoff(8), param('LR', 0.005, { low: 1e-5, high: 1, log: true })];
    const shuffled = [history[0]!, history[2]!, history[3]!, history[1]!];
    for (let seed = 1; seed <= 10; seed++) {
      const rngOpts = { maxChanges: 2, seed: 0 };
      expect(proposeTuning(params, shuffled, createRng(seed), rngOpts)).toEqual(proposeTuning(params, history, createRng(seed), rngOpts));
    }
  });

  it('treats a stale trial as never measured: its point is free and it teaches nothing', () => {
    const params = [cutoff(8)];
    const stale = [baseline, trial(1, 'stale', 'CUTOFF 8 → 16')];
    expect(readHistory(params, stale).trials).toEqual([]);
    for (let seed = 1; seed <= 10; seed++) {
      expect(proposeTuning(params, stale, createRng(seed), { maxChanges: 1, seed: 0 }).changes).toEqual(
        proposeTuning(params, [baseline], createRng(seed), { maxChanges: 1, seed: 0 }).changes,
      );
    }
  });
});

function randomParams(rng: Rng): TunedParam[] {
  const count = 1 + Math.floor(rng() * 3);
  return Array.from({ length: count }, (_, i) => {
    const kind = Math.floor(rng() * 3);
    if (kind === 0) return param(`I${i}`, 3 + Math.floor(rng() * 10), { low: 1, high: 16 + Math.floor(rng() * 50), int: true });
    if (kind === 1) return param(`L${i}`, 0.01, { low: 1e-5, high: 1, log: true });
    return param(`F${i}`, 0.5, { low: 0, high: 1 });
  });
}

/** A serial run of the tuner on its own proposals with random verdicts, ending at the files' values. */
function randomHistory(params: TunedParam[], rng: Rng, seed: number): TrialView[] {
  const history: TrialView[] = [baseline];
  const length = Math.floor(rng() * 12);
  for (let n = 1; n <= length; n++) {
    const { changes } = proposeTuning(params, history, createRng(hashSeed(seed, n)), { maxChanges: 2, seed });
    if (changes.length === 0) break;
    const r = rng();
    const outcome: Outcome = r < 0.3 ? 'keep' : r < 0.8 ? 'discard' : r < 0.9 ? 'crash' : 'stale';
    history.push(trial(n, outcome, formatDescription(changes)));
    if (outcome !== 'keep') continue;
    for (const c of changes) {
      const index = params.findIndex((p) => p.name === c.name);
      params[index] = { ...params[index]!, value: c.to, literal: c.toText };
    }
  }
  return history;
}
