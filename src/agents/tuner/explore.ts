/**
 * The tuner's jump off a flat landscape. A measurement that ties the incumbent exactly says the
 * metric does not change where the search looked: a local step there teaches nothing (each one
 * ties or, past a moat, fails, and the step shrinks), and the TPE step learns little too, since
 * its "good" points are then the tied ones around the start. So, when ties are most of what the
 * search measured since its last gain, the tuner jumps: it moves as many constants as it may,
 * each to a value drawn over its whole range, and of many such candidates proposes the one
 * farthest from every point measured or in flight (Mitchell's best-candidate sampling: a
 * space-filling design built one point at a time, as the startup trials of TPE or a Latin
 * hypercube are meant to be). A jump that lands higher is kept by the loop, and the local search
 * goes on from there: a restart in a new region.
 */
import type { Rng } from './rng.js';
import type { TunedParam, TuningChange } from './types.js';
import type { MeasuredPoint, TuningMemory } from './history.js';
import { vectorKey } from './history.js';
import { changeTo } from './global.js';
import { toUnit } from './space.js';

export interface Plateau {
  /** Measured tuner trials since the last kept one (all of them when none was kept). */
  stale: number;
  /** Of those, the ones whose metric equals the incumbent's exactly. */
  ties: number;
}

/** How long the search has been stuck, and how much of that was flat. */
export function readPlateau(memory: TuningMemory, baselineMetric: number | null): Plateau {
  let stale = 0;
  let ties = 0;
  let lastKeep = -1;
  for (let i = memory.trials.length - 1; i >= 0; i--) {
    if (memory.trials[i]!.outcome === 'keep') {
      lastKeep = i;
      break;
    }
  }
  const incumbent = lastKeep >= 0 ? memory.trials[lastKeep]!.metric : baselineMetric;
  for (const trial of memory.trials.slice(lastKeep + 1)) {
    if (trial.outcome !== 'discard' && trial.outcome !== 'crash') continue;
    stale++;
    if (trial.outcome === 'discard' && incumbent !== null && trial.metric === incumbent) ties++;
  }
  return { stale, ties };
}

/** Ties before the first jump. */
export const FLAT_TIES = 2;

/**
 * The odds of a jump: none until there are FLAT_TIES ties and they outnumber the trials since the
 * last keep that measured a difference; then each tie beyond those halves the odds of one more
 * local move. A difference, even a worse one, is a signal: the local search is mapping a local
 * optimum there, which its step sizes and the TPE step handle. A jump is for no signal at all.
 */
export function jumpOdds(plateau: Plateau): number {
  const signal = plateau.stale - plateau.ties;
  const margin = plateau.ties - signal;
  return plateau.ties < FLAT_TIES || margin < 1 ? 0 : 1 - 0.5 ** margin;
}

export interface ExploreInput {
  params: readonly TunedParam[];
  points: readonly MeasuredPoint[];
  /** Combinations never to propose: measured, refused or in flight (vectorKey). */
  avoid: { has(key: string): boolean };
  /** Values of the proposals in flight: as far from them as from a measured point. */
  pending: readonly ReadonlyMap<string, number>[];
  maxChanges: number;
}

const CANDIDATES = 64;

export function proposeJump(input: ExploreInput, rng: Rng): { changes: TuningChange[]; why: string } | null {
  const { params } = input;
  const count = Math.min(Math.max(1, input.maxChanges), params.length);
  const unit = (values: ReadonlyMap<string, number>) => params.map((p) => toUnit(p, values.get(p.name) ?? p.value));
  const seen = [...input.points.map((p) => unit(p.values)), ...input.pending.map(unit)];
  let best: { changes: TuningChange[]; distance: number } | null = null;
  for (let c = 0; c < CANDIDATES; c++) {
    const pool = [...params];
    const changes: TuningChange[] = [];
    for (let i = 0; i < count; i++) {
      const param = pool.splice(Math.floor(rng() * pool.length), 1)[0]!;
      const change = changeTo(param, rng());
      if (change !== null) changes.push(change);
    }
    if (changes.length === 0) continue;
    const values = new Map(params.map((p) => [p.name, p.value]));
    for (const change of changes) values.set(change.name, change.to);
    if (input.avoid.has(vectorKey(params, values))) continue;
    const u = unit(values);
    const distance = Math.min(Infinity, ...seen.map((s) => Math.hypot(...s.map((x, i) => x - u[i]!))));
    if (best === null || distance > best.distance) best = { changes, distance };
  }
  if (best === null) return null;
  const order = new Map(params.map((p, i) => [p.name, i]));
  best.changes.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  return { changes: best.changes, why: `a jump to the candidate farthest from the ${seen.length} point(s) measured or in flight` };
}
