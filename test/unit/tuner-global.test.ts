import { describe, expect, it } from 'vitest';
import type { TrialView } from '../../src/agents/types.js';
import { readHistory, vectorKey } from '../../src/agents/tuner/history.js';
import { createRng, hashSeed } from '../../src/agents/tuner/rng.js';
import { proposeTuning } from '../../src/agents/tuner/search.js';
import { kthSmallest, proposeGlobal } from '../../src/agents/tuner/global.js';
import type { MeasuredPoint } from '../../src/agents/tuner/history.js';
import { simulateTuner as simulate, tunedParam as param, type Landscape } from '../helpers/tuner-simulation.js';

// A plateau around the start (every nearby value ties at 1) and the only way up far away, as in
// optimize-compress, where a window of about 1000 is the first that helps.
const window = () => [param('WINDOW', 1, { low: 1, high: 65535, int: true, log: true }), param('CHAIN', 1, { low: 1, high: 4096, int: true, log: true })];
const plateau: Landscape = (v) => {
  const w = v.get('WINDOW')!;
  return w < 600 ? 1 : 1 + Math.log(w) / 10 + Math.log(v.get('CHAIN')!) / 20;
};

describe('the global model of a long run', () => {
  it('proposes the same from points oldest first (no sort) as from the same points in any order', () => {
    // Over 750 points outside the good group: the model keeps the latest 750 by trial. Points
    // in the memory's order take them from the end; any other order sorts (distinct metrics, so
    // no tie makes the two orders differ).
    const params = window();
    const rng = createRng(11);
    const points: MeasuredPoint[] = Array.from({ length: 1600 }, (_, i) => ({
      trial: i + 1,
      values: new Map([['WINDOW', 1 + Math.floor(rng() * 65534)], ['CHAIN', 1 + Math.floor(rng() * 4095)]]),
      outcome: rng() < 0.1 ? 'crash' : 'discard',
      metric: i * 0.001 + rng() * 7,
    }));
    const shuffled = [...points].sort(() => rng() - 0.5);
    for (const exploration of [0, 0.5]) {
      const input = { params, avoid: new Set<string>(), pending: [], direction: 'maximize' as const, maxChanges: 2, exploration };
      const inOrder = proposeGlobal({ ...input, points }, createRng(5));
      expect(inOrder).not.toBeNull();
      expect(proposeGlobal({ ...input, points: shuffled }, createRng(5))).toEqual(inOrder);
    }
  });
});

describe('the tuner beyond local steps', () => {
  it('leaves a plateau that no local step can see past', () => {
    const escaped = Array.from({ length: 10 }, (_, seed) => simulate(window(), plateau, seed, 20).best > 1).filter(Boolean).length;
    expect(escaped).toBeGreaterThanOrEqual(8);
  });

  it('is reproducible with a seed and resumes from the history alone', () => {
    const a = simulate(window(), plateau, 3, 20);
    expect(simulate(window(), plateau, 3, 20).proposals).toEqual(a.proposals);
    expect(simulate(window(), plateau, 4, 20).proposals).not.toEqual(a.proposals);
    // A run stopped after trial 12 and resumed: the next proposal is read from the recorded history.
    const resumedParams = simulate(window(), plateau, 3, 12).params;
    const { changes } = proposeTuning(resumedParams, a.history.slice(0, 13), createRng(hashSeed(3, 13)), { maxChanges: 2, seed: 3, direction: 'maximize' });
    const values = new Map(resumedParams.map((p) => [p.name, p.value]));
    for (const c of changes) values.set(c.name, c.to);
    expect(vectorKey(resumedParams, values)).toBe(a.proposals[12]);
  });

  it('never measures the same combination twice, even on a small space it exhausts', () => {
    const small = [param('A', 2, { low: 0, high: 5, int: true }), param('B', 1, { low: 0, high: 4, int: true })];
    const bumpy: Landscape = (v) => Math.sin(v.get('A')! * 1.7) + Math.cos(v.get('B')! * 2.3);
    for (let seed = 0; seed < 5; seed++) {
      const { proposals, history } = simulate(small, bumpy, seed, 40);
      const seen = new Set(proposals);
      expect(seen.size).toBe(proposals.length);
      expect(readHistory(small, history).tried.size).toBeGreaterThan(proposals.length / 2);
    }
  });

  it('spreads proposals in flight over different points', () => {
    const params = window();
    const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' }];
    for (let n = 1; n <= 6; n++) history.push({ trial: n, outcome: 'discard', metric: 1, description: `WINDOW 1 → ${n + 1}` });
    const pending: { name: string; from: number; to: number }[][] = [];
    const keys = new Set<string>();
    for (let trial = 7; trial <= 12; trial++) {
      const { changes } = proposeTuning(params, history, createRng(hashSeed(0, trial)), { maxChanges: 2, seed: 0, pending, direction: 'maximize' });
      expect(changes.length).toBeGreaterThan(0);
      const values = new Map(params.map((p) => [p.name, p.value]));
      for (const c of changes) values.set(c.name, c.to);
      keys.add(vectorKey(params, values));
      pending.push(changes.map((c) => ({ name: c.name, from: c.from, to: c.to })));
    }
    expect(keys.size).toBe(6);
  });
});

describe('kthSmallest', () => {
  it('gives what sorting gives, with ties, negative values and one value', () => {
    const rng = createRng(5);
    for (let round = 0; round < 200; round++) {
      const length = 1 + Math.floor(rng() * 60);
      // Few distinct values: ties are the hard case for a selection. (0 and -0 compare equal: + 0 reads both as 0.)
      const values = Array.from({ length }, () => Math.round((rng() - 0.5) * (round % 2 === 0 ? 6 : 1000)));
      const sorted = [...values].sort((a, b) => a - b);
      for (let k = 0; k < length; k++) expect(kthSmallest(Float64Array.from(values), k) + 0).toBe(sorted[k]! + 0);
    }
  });
});
