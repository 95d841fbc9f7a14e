import { describe, expect, it } from 'vitest';
import type { TrialView } from '../../src/agents/types.js';
import type { Outcome } from '../../src/loop/outcome.js';
import type { TunedParam } from '../../src/agents/tuner/types.js';
import { createRng, hashSeed } from '../../src/agents/tuner/rng.js';
import { proposeTuning, TuningMemo } from '../../src/agents/tuner/search.js';
import { parseDescription } from '../../src/agents/tuner/description.js';

function param(name: string, value: number, range: Partial<TunedParam> & Pick<TunedParam, 'low' | 'high'>): TunedParam {
  return { name, file: 'f.js', line: 1, int: false, log: false, value, literal: String(value), column: 0, ...range };
}

const baseline: TrialView = { trial: 0, outcome: 'baseline', metric: 10, description: 'baseline' };
const trial = (n: number, outcome: Outcome, description: string): TrialView => ({ trial: n, outcome, metric: 1, description });
const propose = (params: TunedParam[], history: TrialView[], seed = 1, maxChanges = 2) =>
  proposeTuning(params, history, createRng(seed), { maxChanges, seed: 0 });

const cutoff = (value: number) => param('CUTOFF', value, { low: 2, high: 256, int: true, log: true });

describe('proposeTuning', () => {
  it('moves constants inside their ranges and describes why', () => {
    const params = [cutoff(8), param('LR', 0.01, { low: 1e-5, high: 1, log: true })];
    for (let seed = 1; seed <= 20; seed++) {
      const { changes, notes } = propose(params, [baseline], seed);
      expect(changes.length).toBeGreaterThanOrEqual(1);
      expect(changes.length).toBeLessThanOrEqual(2);
      for (const change of changes) {
        const p = params.find((x) => x.name === change.name)!;
        expect(change.to).not.toBe(p.value);
        expect(change.to).toBeGreaterThanOrEqual(p.low);
        expect(change.to).toBeLessThanOrEqual(p.high);
        expect(Number(change.toText)).toBe(change.to);
      }
      expect(notes.join('\n')).toMatch(/CUTOFF|LR/);
    }
    expect(propose([cutoff(8)], [baseline]).changes[0]!.to).toSatisfy(Number.isInteger);
  });

  it('never leaves the range when it rounds a large value for readability', () => {
    const window = param('WINDOW', 60000, { low: 1, high: 65535, int: true, literal: '60000' });
    for (let seed = 1; seed <= 60; seed++) {
      for (const change of propose([window], [baseline], seed, 1).changes) {
        expect(change.to).toBeLessThanOrEqual(65535);
        expect(Number(change.toText)).toBe(change.to);
      }
    }
  });

  it('is a pure function of its inputs', () => {
    const params = [cutoff(8), param('LR', 0.01, { low: 1e-5, high: 1, log: true })];
    expect(propose(params, [baseline], 7)).toEqual(propose(params, [baseline], 7));
  });

  it('keeps going the way that helped', () => {
    const { changes } = propose([cutoff(16)], [baseline, trial(1, 'keep', 'CUTOFF 8 → 16')]);
    expect(changes[0]!.to).toBeGreaterThan(16);
  });

  it('turns around after a failure', () => {
    for (const outcome of ['discard', 'crash'] as const) {
      const { changes } = propose([cutoff(8)], [baseline, trial(1, outcome, 'CUTOFF 8 → 16')]);
      expect(changes[0]!.to).toBeLessThan(8);
    }
  });

  it('halves its step once both directions failed', () => {
    // The tuner's own moves, fed back as failures: up fails, so it tries down; down fails too.
    const unit = (v: number) => Math.log(v / 2) / Math.log(128);
    for (let seed = 1; seed <= 10; seed++) {
      const history: TrialView[] = [baseline];
      const moves: number[] = [];
      for (let n = 1; n <= 3; n++) {
        const change = propose([cutoff(8)], history, hashSeed(seed, n)).changes[0]!;
        moves.push(unit(change.to) - unit(8));
        history.push(trial(n, 'discard', `CUTOFF 8 → ${change.toText}`));
      }
      const [first = 0, second = 0, third = 0] = moves;
      expect(Math.sign(second)).toBe(-Math.sign(first));
      expect(Math.abs(third)).toBeLessThan(Math.min(Math.abs(first), Math.abs(second)));
    }
  });

  it('ignores descriptions it did not write and trials that measured nothing', () => {
    const history = [baseline, trial(1, 'keep', 'use insertion sort'), trial(2, 'agent-error', 'CUTOFF 8 → 16')];
    expect(propose([cutoff(8)], history).changes).toEqual(propose([cutoff(8)], [baseline]).changes);
  });

  it('never proposes values already tried, widening the search when everything near was', () => {
    const n = (value: number, high: number) => param('N', value, { low: 1, high, int: true });
    const history = [baseline, trial(1, 'discard', 'N 2 → 3'), trial(2, 'discard', 'N 2 → 1')];
    expect(propose([n(2, 4)], history).changes).toEqual([{ name: 'N', from: 2, to: 4, fromText: '2', toText: '4' }]);
    const exhausted = propose([n(2, 3)], history);
    expect(exhausted.changes).toEqual([]);
    expect(exhausted.notes.at(-1)).toMatch(/every combination/);
  });

  it('remembers the best values of earlier kept states as tried', () => {
    // 8 → 16 was kept, then 16 → 32 failed: going back down to exactly 8 would repeat a measurement.
    const history = [baseline, trial(1, 'keep', 'CUTOFF 8 → 16'), trial(2, 'discard', 'CUTOFF 16 → 32')];
    for (let seed = 1; seed <= 10; seed++) {
      const to = propose([cutoff(16)], history, seed).changes[0]!.to;
      expect([8, 16, 32]).not.toContain(to);
    }
  });

  it('changes at most max_changes constants, mostly one', () => {
    const params = ['A', 'B', 'C', 'D'].map((name) => param(name, 0.5, { low: 0, high: 1 }));
    const sizes = Array.from({ length: 40 }, (_, i) => propose(params, [baseline], hashSeed(i), 3).changes.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.filter((s) => s === 1).length).toBeGreaterThan(20);
    expect(sizes.some((s) => s > 1)).toBe(true);
    const single = Array.from({ length: 20 }, (_, i) => propose(params, [baseline], hashSeed(i), 1).changes.length);
    expect(new Set(single)).toEqual(new Set([1]));
  });

  it('picks constants whose changes helped more often', () => {
    const params = [param('A', 0.8, { low: 0, high: 1 }), param('B', 0.5, { low: 0, high: 1 })];
    const history = [baseline, trial(1, 'keep', 'A 0.5 → 0.6'), trial(2, 'keep', 'A 0.6 → 0.7'), trial(3, 'keep', 'A 0.7 → 0.8')];
    const picks = Array.from({ length: 60 }, (_, i) => propose(params, history, hashSeed('pick', i), 1).changes[0]!.name);
    expect(picks.filter((name) => name === 'A').length).toBeGreaterThan(40);
  });
});

describe('proposeTuning with the memo the tuner keeps between proposals', () => {
  /**
   * The memo extends what the last proposal learned instead of replaying the whole history
   * (TuningMemo): every proposal made with it must be exactly the one made without it, over
   * random runs that keep, fail, tie and crash, with another agent's keeps (which take the
   * baseline out of the model), results out of order, a marker removed for a while and a range
   * changed mid-run, with trials in flight.
   */
  it('proposes exactly what the whole replay proposes, at every step of random runs', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rng = createRng(1000 + seed);
      const pick = <T,>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
      const values = new Map([['A', 8], ['B', 0.01], ['C', 40]]);
      const rangeOf = (name: string, step: number): Pick<TunedParam, 'low' | 'high' | 'int' | 'log'> =>
        name === 'A' ? { low: 2, high: 256, int: true, log: true } : name === 'B' ? { low: 1e-5, high: 1, int: false, log: true } : { low: 0, high: step < 50 ? 100 : 200, int: true, log: false };
      const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 10, description: 'baseline' }];
      const held: TrialView[] = [];
      const memo = new TuningMemo();
      let best = 10;
      for (let step = 1; step <= 80; step++) {
        const inFile = step > 25 && step < 35 ? ['A', 'C'] : ['A', 'B', 'C'];
        const params = inFile.map((name) => param(name, values.get(name)!, rangeOf(name, step)));
        // The held results are the trials in flight.
        const pending = held.map((v) => parseDescription(v.description)).filter((changes) => changes !== null);
        const options = { maxChanges: 2, seed: 3, direction: 'minimize' as const, pending };
        const withMemo = proposeTuning(params, history, createRng(hashSeed(seed, step)), { ...options, memo });
        const whole = proposeTuning(params, history, createRng(hashSeed(seed, step)), options);
        expect(withMemo, `seed ${seed}, step ${step}`).toEqual(whole);
        let view: TrialView;
        if (rng() < 0.05 || withMemo.changes.length === 0) {
          // Another agent's keep, without a tuner description: it moves a constant, or none.
          if (rng() < 0.5) values.set('C', Math.floor(rng() * 100));
          best -= 0.1;
          view = { trial: step, outcome: 'keep', metric: best, description: 'refactored the loop' };
        } else {
          const outcome: Outcome = pick(['keep', 'discard', 'discard', 'discard', 'crash', 'violation']);
          // Ties with the incumbent happen: they steer the search too.
          const metric = outcome === 'crash' ? null : outcome === 'keep' ? (best -= rng()) : rng() < 0.3 ? best : best + rng();
          if (outcome === 'keep') for (const c of withMemo.changes) values.set(c.name, c.to);
          view = { trial: step, outcome, metric, description: withMemo.changes.map((c) => `${c.name} ${c.fromText} → ${c.toText}`).join(', ') };
        }
        // Results arrive out of order now and then (trials in flight).
        if (rng() < 0.15) held.push(view);
        else history.push(view);
        if (held.length > 0 && rng() < 0.5) history.push(held.shift()!);
      }
    }
  });

  it('goes on from what it learned when the history only grew', () => {
    const params = [cutoff(8)];
    const history: TrialView[] = [baseline, trial(1, 'discard', 'CUTOFF 8 → 12'), trial(2, 'discard', 'CUTOFF 8 → 6')];
    const memo = new TuningMemo();
    proposeTuning(params, history, createRng(1), { maxChanges: 1, seed: 0, memo });
    const learned = memo.learned!;
    history.push(trial(3, 'discard', 'CUTOFF 8 → 10'));
    proposeTuning(params, history, createRng(2), { maxChanges: 1, seed: 0, memo });
    expect(memo.learned!.states).toBe(learned.states);
    expect(memo.learned!.trials.map((t) => t.trial)).toEqual([1, 2, 3]);
    // A range changed: learned again from the start.
    proposeTuning([param('CUTOFF', 8, { low: 2, high: 512, int: true, log: true })], history, createRng(3), { maxChanges: 1, seed: 0, memo });
    expect(memo.learned!.states).not.toBe(learned.states);
  });

  it('with trials in flight, indexes the past moves once and extends the index as the history grows', () => {
    const lr = (value: number) => param('LR', value, { low: 1e-5, high: 1, log: true });
    const history: TrialView[] = [baseline, trial(1, 'discard', 'CUTOFF 8 → 12'), trial(2, 'discard', 'CUTOFF 8 → 6, LR 0.01 → 0.02')];
    const memo = new TuningMemo();
    const pending = [[{ name: 'CUTOFF', from: 8, to: 9 }]];
    proposeTuning([cutoff(8), lr(0.01)], history, createRng(1), { maxChanges: 1, seed: 0, memo, pending });
    const index = memo.moves!.byMove;
    expect([...index.keys()].sort()).toEqual(['CUTOFF\u000012', 'CUTOFF\u00006', 'LR\u00000.02']);
    history.push(trial(3, 'discard', 'CUTOFF 8 → 10'));
    proposeTuning([cutoff(8), lr(0.01)], history, createRng(2), { maxChanges: 1, seed: 0, memo, pending });
    expect(memo.moves!.byMove).toBe(index);
    expect(index.get('CUTOFF\u000010')!.map((t) => t.trial)).toEqual([3]);
    // A marker removed: the walk starts over, and so does the index, without its moves.
    proposeTuning([cutoff(8)], history, createRng(3), { maxChanges: 1, seed: 0, memo, pending });
    expect(memo.moves!.byMove).not.toBe(index);
    expect([...memo.moves!.byMove.keys()].sort()).toEqual(['CUTOFF\u000010', 'CUTOFF\u000012', 'CUTOFF\u00006']);
  });
});
