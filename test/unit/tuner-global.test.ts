import { describe, expect, it } from 'vitest';
import type { TrialView } from '../../src/agents/types.js';
import { readHistory, vectorKey } from '../../src/agents/tuner/history.js';
import { createRng, hashSeed } from '../../src/agents/tuner/rng.js';
import { proposeTuning } from '../../src/agents/tuner/search.js';
import { ModelMemo, proposeGlobal } from '../../src/agents/tuner/global.js';
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

describe('the global model kept between proposals (ModelMemo)', () => {
  /**
   * The model reads only the points added since the last proposal. Every proposal made with the
   * memo must be the one made without it, through what a long run does to its points: they grow
   * past both caps (250 good, 750 others), tie, crash, get the baseline's point put in front and
   * taken out again (another agent's keep), are rebuilt as new objects (a rebuilt walk), arrive
   * out of trial order, lack a constant, and meet a range changed and the direction turned around.
   */
  it('proposes exactly what a model built afresh proposes, at every step of a long random run', () => {
    const rng = createRng(23);
    const params = window();
    const memo = new ModelMemo();
    const pointAt = (trial: number): MeasuredPoint => {
      const roll = rng();
      return {
        trial,
        values: new Map([['WINDOW', 1 + Math.floor(rng() * 65534)], ['CHAIN', 1 + Math.floor(rng() * 4095)]]),
        outcome: roll < 0.08 ? 'crash' : roll < 0.2 ? 'keep' : 'discard',
        // Rounded: ties, with the bar of the good group among them.
        metric: roll < 0.04 ? null : Math.round(rng() * 300) / 10,
      };
    };
    const baselinePoint: MeasuredPoint = { trial: 0, values: new Map([['WINDOW', 1], ['CHAIN', 1]]), outcome: 'baseline', metric: 15 };
    let points: MeasuredPoint[] = [];
    let trial = 1;
    let withBaseline = false;
    let direction: 'minimize' | 'maximize' = 'minimize';
    const events: string[] = [];
    for (let step = 0; step < 90; step++) {
      const roll = rng();
      if (step === 30 || step === 70) {
        withBaseline = !withBaseline;
        events.push('baseline');
      } else if (step === 45) {
        points = points.map((p) => ({ ...p, values: new Map(p.values) }));
        events.push('rebuilt');
      } else if (step === 55) {
        direction = 'maximize';
        events.push('direction');
      } else if (step === 60) {
        params[0] = { ...params[0]!, high: 30000 };
        events.push('range');
      } else if (roll < 0.05 && points.length > 2) {
        // A point placed before the last one: results out of trial order.
        points.splice(points.length - 2, 0, pointAt(trial++));
        events.push('out of order');
      }
      // Points without CHAIN stand at today's CHAIN, which moves from then on.
      if (step === 50) for (let i = 0; i < 60; i++) points.push({ ...pointAt(trial++), values: new Map([['WINDOW', 1 + Math.floor(rng() * 65534)]]) });
      if (step > 50) params[1] = { ...params[1]!, value: 1 + Math.floor(rng() * 4095) };
      const added = 1 + Math.floor(rng() * (step < 40 ? 40 : 15));
      for (let i = 0; i < added; i++) points.push(pointAt(trial++));
      const all = withBaseline ? [baselinePoint, ...points] : [...points];
      const input = { params, points: all, avoid: new Set<string>(), pending: [new Map([['WINDOW', 500]])], direction, maxChanges: 2, exploration: (step % 3) / 2 };
      const kept = proposeGlobal({ ...input, memo }, createRng(hashSeed(5, step)));
      expect(kept, `step ${step}, ${all.length} points, after ${events.join(', ')}`).toEqual(proposeGlobal(input, createRng(hashSeed(5, step))));
    }
    // The run reached both caps, so the capped paths were compared too.
    expect(points.length).toBeGreaterThan(1100);
    expect(memo.state!.seen).toBe(points.length + (withBaseline ? 1 : 0));
  });
});
