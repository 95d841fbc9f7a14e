import { describe, expect, it } from 'vitest';
import type { TrialView } from '../../src/agents/types.js';
import type { Outcome } from '../../src/loop/outcome.js';
import type { TunedParam } from '../../src/agents/tuner/types.js';
import { createRng } from '../../src/agents/tuner/rng.js';
import { HistoryMemo, readHistory, type TuningMemory } from '../../src/agents/tuner/history.js';

/**
 * The tuner keeps its last walk over the history and extends it (HistoryMemo): every memory it
 * builds that way must be exactly the one the whole walk builds, for histories that grow in
 * order, arrive out of order (trials in flight), hold another agent's keeps, stale trials, and
 * constants added or removed.
 */

function param(name: string, value: number): TunedParam {
  return { name, file: 'f.js', line: 1, int: true, log: false, value, literal: String(value), column: 0, low: 0, high: 100 };
}

const comparable = (m: TuningMemory) => ({ trials: m.trials, kept: m.kept, points: m.points, tried: [...m.tried].sort() });

describe('the tuner memory, extended from the last walk', () => {
  it('is the memory the whole walk gives, at every step of random histories', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = createRng(seed);
      const pick = <T,>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
      const names = ['A', 'B', 'C'];
      const values = new Map(names.map((n) => [n, Math.floor(rng() * 100)]));
      const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 50, description: 'baseline' }];
      const memo = new HistoryMemo();
      let next = 1;
      const held: TrialView[] = [];
      for (let step = 0; step < 60; step++) {
        const n = next++;
        const roll = rng();
        let view: TrialView;
        if (roll < 0.08) {
          // Another agent's keep: a constant moves without a tuner description.
          values.set(pick(names), Math.floor(rng() * 100));
          view = { trial: n, outcome: 'keep', metric: rng() * 100, description: 'refactored the loop' };
        } else {
          const name = pick(names);
          const from = values.get(name)!;
          const to = Math.floor(rng() * 100);
          const outcome: Outcome = pick(['keep', 'discard', 'discard', 'discard', 'crash', 'violation', 'stale']);
          if (outcome === 'keep') values.set(name, to);
          view = { trial: n, outcome, metric: outcome === 'crash' ? null : rng() * 100, description: `${name} ${from} → ${to}` };
        }
        // Trials in flight finish out of order: some results arrive one step late.
        if (rng() < 0.2) held.push(view);
        else history.push(view);
        if (held.length > 0 && rng() < 0.5) history.push(held.shift()!);
        // A marker removed for a while, then back.
        const inFile = step > 20 && step < 30 ? ['A', 'B'] : names;
        const params = inFile.map((name) => param(name, values.get(name)!));
        const shuffled = [...history].sort(() => rng() - 0.5);
        expect(comparable(readHistory(params, shuffled, memo)), `seed ${seed}, step ${step}`).toEqual(comparable(readHistory(params, history)));
      }
    }
  });

  it('extends the last walk instead of redoing it when the history only grew', () => {
    const params = [param('A', 7)];
    const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 50, description: 'baseline' }];
    for (let n = 1; n <= 5; n++) history.push({ trial: n, outcome: 'discard', metric: 60, description: `A 7 → ${10 + n}` });
    const memo = new HistoryMemo();
    readHistory(params, history, memo);
    const walked = memo.state!;
    history.push({ trial: 6, outcome: 'discard', metric: 61, description: 'A 7 → 30' });
    const memory = readHistory(params, history, memo);
    // The same state, extended: its first trials are the very objects of the first walk.
    expect(memo.state).toBe(walked);
    expect(memory.trials.map((t) => t.trial)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(memory.tried.has('30')).toBe(true);
  });
});
