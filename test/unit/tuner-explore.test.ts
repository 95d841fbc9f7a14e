import { describe, expect, it } from 'vitest';
import type { TrialView } from '../../src/agents/types.js';
import type { TunedParam } from '../../src/agents/tuner/types.js';
import { HistoryMemo, readHistory, vectorKey, type MeasuredPoint } from '../../src/agents/tuner/history.js';
import { JumpMemo, PlateauMemo, proposeJump, readPlateau } from '../../src/agents/tuner/explore.js';
import { createRng, hashSeed } from '../../src/agents/tuner/rng.js';
import { proposeTuning } from '../../src/agents/tuner/search.js';
import { toUnit } from '../../src/agents/tuner/space.js';
import { simulateTuner, tunedParam as param, type Landscape } from '../helpers/tuner-simulation.js';

// Four constants, flat around the start: three change nothing at all there, and the fourth gets
// a little worse before it gets better (a moat), so every local move ties or fails. The only way
// up is a far jump of REACH, after which the others matter too.
const start = (): TunedParam[] => [
  param('REACH', 1, { low: 1, high: 65535, int: true, log: true }),
  param('DEPTH', 1, { low: 1, high: 4096, int: true, log: true }),
  param('SPAN', 3, { low: 1, high: 16, int: true }),
  param('RATE', 0.5, { low: 0, high: 1 }),
];
const moat: Landscape = (v) => {
  const reach = toUnit(start()[0]!, v.get('REACH')!);
  if (reach === 0) return 1;
  if (reach < 0.6) return 0.99;
  const depth = toUnit(start()[1]!, v.get('DEPTH')!);
  return 1 + (reach - 0.6) + 0.2 * depth - 0.02 * Math.abs(v.get('SPAN')! - 6) - 0.1 * (v.get('RATE')! - 0.3) ** 2;
};

const seeds = Array.from({ length: 10 }, (_, seed) => seed);

describe('the tuner on a flat landscape', () => {
  it('jumps off a plateau where every local move ties or fails, on most seeds', () => {
    const escaped = seeds.filter((seed) => simulateTuner(start(), moat, seed, 20).best > 1);
    expect(escaped.length).toBeGreaterThanOrEqual(8);
  });

  it('takes ties at the incumbent as "flat here": after two, a jump that moves as many constants as allowed', () => {
    const params = start();
    const history: TrialView[] = [
      { trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' },
      { trial: 1, outcome: 'discard', metric: 1, description: 'SPAN 3 → 7' },
      { trial: 2, outcome: 'discard', metric: 1, description: 'DEPTH 1 → 16' },
    ];
    let jumps = 0;
    for (let seed = 0; seed < 40; seed++) {
      const { changes, notes } = proposeTuning(params, history, createRng(seed), { maxChanges: 3, seed: 0, direction: 'maximize' });
      if (!notes.some((n) => /flat/.test(n))) continue;
      jumps++;
      expect(changes).toHaveLength(3);
    }
    // Three times in four after two ties and nothing else; the rest are still local moves.
    expect(jumps).toBeGreaterThan(20);
    expect(jumps).toBeLessThan(40);
  });

  it('does not jump where the trials since the last keep measured more differences than ties', () => {
    const cases: { history: [string, number][]; odds: 'none' | 'some' }[] = [
      { history: [['SPAN 3 → 7', 1]], odds: 'none' },
      { history: [['SPAN 3 → 7', 1], ['DEPTH 1 → 16', 1]], odds: 'some' },
      { history: [['SPAN 3 → 7', 1], ['DEPTH 1 → 16', 1], ['REACH 1 → 9', 0.99], ['REACH 1 → 3', 0.99]], odds: 'none' },
      { history: [['SPAN 3 → 7', 1], ['DEPTH 1 → 16', 1], ['REACH 1 → 9', 0.99], ['DEPTH 1 → 2', 1]], odds: 'some' },
      // A keep starts the count again.
      { history: [['SPAN 3 → 7', 1], ['DEPTH 1 → 16', 1], ['RATE 0.5 → 0.6', 1.5], ['SPAN 3 → 5', 1.5]], odds: 'none' },
    ];
    for (const { history, odds } of cases) {
      const views: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' }];
      let best = 1;
      history.forEach(([description, metric], i) => {
        views.push({ trial: i + 1, outcome: metric > best ? 'keep' : 'discard', metric, description });
        best = Math.max(best, metric);
      });
      const params = start();
      const jumps = Array.from({ length: 40 }, (_, seed) => proposeTuning(params, views, createRng(seed), { maxChanges: 2, seed: 0, direction: 'maximize' }))
        .filter((p) => p.notes.some((n) => /flat/.test(n))).length;
      if (odds === 'none') expect(jumps).toBe(0);
      else expect(jumps).toBeGreaterThan(10);
    }
  });

  it('jumps to the points farthest from every point measured or in flight', () => {
    const params = start();
    const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' }];
    for (let n = 1; n <= 4; n++) history.push({ trial: n, outcome: 'discard', metric: 1, description: `DEPTH 1 → ${2 ** n}` });
    const pending: { name: string; from: number; to: number }[][] = [];
    const measured = readHistory(params, history).points.map((p) => params.map((q) => toUnit(q, p.values.get(q.name)!)));
    const keys = new Set<string>();
    for (let slot = 0; slot < 4; slot++) {
      // After four ties and nothing else a jump has odds of 15 in 16: the first draw that jumps.
      const jumps = Array.from({ length: 20 }, (_, draw) =>
        proposeTuning(params, history, createRng(hashSeed(slot, draw)), { maxChanges: 4, seed: 1, pending, direction: 'maximize' }),
      ).filter((p) => p.notes.some((n) => /flat/.test(n)));
      expect(jumps.length).toBeGreaterThan(15);
      const { changes } = jumps[0]!;
      const values = new Map(params.map((p) => [p.name, p.value]));
      for (const c of changes) values.set(c.name, c.to);
      keys.add(vectorKey(params, values));
      const u = params.map((p) => toUnit(p, values.get(p.name)!));
      // Far from everything measured: at least a third of the unit cube's diagonal away.
      const nearest = Math.min(...measured.map((m) => Math.hypot(...m.map((x, i) => x - u[i]!))));
      expect(nearest).toBeGreaterThan(Math.sqrt(params.length) / 3);
      measured.push(u);
      pending.push(changes.map((c) => ({ name: c.name, from: c.from, to: c.to })));
    }
    expect(keys.size).toBe(4);
  });

  it('stays a pure function of the history: a resumed run proposes what an uninterrupted one did', () => {
    for (const seed of [0, 5]) {
      const whole = simulateTuner(start(), moat, seed, 20);
      expect(simulateTuner(start(), moat, seed, 20).proposals).toEqual(whole.proposals);
      const cut = simulateTuner(start(), moat, seed, 11);
      const { changes } = proposeTuning(cut.params, whole.history.slice(0, 12), createRng(hashSeed(seed, 12)), { maxChanges: 2, seed, direction: 'maximize' });
      const values = new Map(cut.params.map((p) => [p.name, p.value]));
      for (const c of changes) values.set(c.name, c.to);
      expect(vectorKey(cut.params, values)).toBe(whole.proposals[11]);
    }
  });

  it('leaves a landscape where every constant matters (no ties) to the local search', () => {
    const smooth: Landscape = (v) =>
      -((Math.log(v.get('REACH')!) - 5) ** 2) - (Math.log(v.get('DEPTH')!) - 2) ** 2 - (v.get('SPAN')! - 9) ** 2 / 10 - (v.get('RATE')! - 0.3) ** 2;
    for (const seed of seeds) {
      const { notes, history } = simulateTuner(start(), smooth, seed, 20);
      expect(history).toHaveLength(21);
      expect(notes.flat().filter((n) => /flat/.test(n))).toEqual([]);
    }
  });
});

describe('the plateau count kept between proposals (PlateauMemo)', () => {
  it('counts what a count from the start counts, at every step of random runs', () => {
    const rng = createRng(31);
    const params = start();
    const memo = new PlateauMemo();
    const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' }];
    const historyMemo = new HistoryMemo();
    const held: TrialView[] = [];
    for (let n = 1; n <= 300; n++) {
      // No keep before trial 220: until then the incumbent is the baseline's metric.
      const outcomes: TrialView['outcome'][] = ['discard', 'discard', 'discard', 'crash', 'violation', ...(n > 220 ? (['keep'] as const) : [])];
      const outcome = outcomes[Math.floor(rng() * outcomes.length)]!;
      // Ties with the incumbent are what the count is for.
      const metric = outcome === 'crash' ? null : rng() < 0.4 ? 1 + Math.floor(rng() * 2) : Math.round(rng() * 4) / 2;
      const view: TrialView = { trial: n, outcome, metric, description: `SPAN 3 → ${4 + (n % 9)}` };
      // Results out of trial order (trials in flight): the memory's walk is redone.
      if (rng() < 0.1) held.push(view);
      else history.push(view);
      if (held.length > 0 && rng() < 0.3) history.push(held.shift()!);
      // The baseline's metric read differently (another history's): the count starts over.
      const baselineMetric = n > 200 ? 2 : 1;
      const memory = readHistory(params, history, historyMemo);
      expect(readPlateau(memory, baselineMetric, memo), `trial ${n}`).toEqual(readPlateau(memory, baselineMetric));
    }
  });
});

describe('the jump on a very long run', () => {
  it('measures its distances past the length a spread of arguments can take', () => {
    // Math.min(...distances) overflowed the stack at about 120,000 points.
    const params = start();
    const points: MeasuredPoint[] = Array.from({ length: 130_000 }, (_, i) => ({
      trial: i + 1,
      values: new Map(params.map((p) => [p.name, p.value])),
      outcome: 'discard' as const,
      metric: 1,
    }));
    const jump = proposeJump({ params, points, avoid: new Set<string>(), pending: [], maxChanges: 2 }, createRng(3));
    expect(jump?.why).toContain('130000 point(s)');
  });
});

describe('the points placed between jumps (JumpMemo)', () => {
  it('jumps exactly where a jump that places every point afresh jumps, as the points grow, are rebuilt and lose a constant', () => {
    const rng = createRng(41);
    const params = start();
    const memo = new JumpMemo();
    const pointAt = (trial: number, names = params.map((p) => p.name)): MeasuredPoint => ({
      trial,
      values: new Map(names.map((name) => [name, name === 'SPAN' ? 1 + Math.floor(rng() * 15) : name === 'RATE' ? rng() : 1 + Math.floor(rng() * 4000)])),
      outcome: 'discard',
      metric: 1,
    });
    let points: MeasuredPoint[] = [];
    for (let step = 0; step < 60; step++) {
      // A walk redone (another agent's keep moved where it starts): new objects, other values.
      if (step === 20) points = points.map((p) => ({ ...p, values: new Map([...p.values].map(([name, v]) => [name, name === 'REACH' ? Math.ceil(v / 64) : v])) }));
      if (step === 30) params[1] = { ...params[1]!, high: 1024 }; // a range changed
      // A point without RATE stands at today's RATE, which moves: it must not be kept placed.
      if (step === 40) for (let i = 0; i < 100; i++) points.push(pointAt(points.length + 1, ['REACH', 'DEPTH', 'SPAN']));
      if (step > 40) params[3] = { ...params[3]!, value: rng() };
      for (let i = 0; i < 1 + Math.floor(rng() * 30); i++) points.push(pointAt(points.length + 1));
      const input = { params, points: [...points], avoid: new Set<string>(), pending: step % 4 === 0 ? [new Map([['REACH', 9]])] : [], maxChanges: 2 };
      expect(proposeJump({ ...input, memo }, createRng(step)), `step ${step}`).toEqual(proposeJump(input, createRng(step)));
    }
  });
});
