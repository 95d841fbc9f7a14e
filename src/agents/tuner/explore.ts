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
import type { MeasuredPoint, PastTrial, TuningMemory } from './history.js';
import { vectorKey } from './history.js';
import { changeTo } from './global.js';
import { goesOn } from '../../core/appended-list.js';
import { placeOf, placesAlone, rangesKey } from './space.js';

export interface Plateau {
  /** Measured tuner trials since the last kept one (all of them when none was kept). */
  stale: number;
  /** Of those, the ones whose metric equals the incumbent's exactly. */
  ties: number;
}

/**
 * What the last `readPlateau` counted, carried on over the trials added since: a long run with no
 * keep counted every trial since its last keep at each proposal.
 */
export class PlateauMemo {
  state: { seen: number; first: PastTrial | undefined; last: PastTrial | undefined; baselineMetric: number | null; incumbent: number | null; plateau: Plateau } | null = null;
}

/** How long the search has been stuck, and how much of that was flat. */
export function readPlateau(memory: TuningMemory, baselineMetric: number | null, memo?: PlateauMemo): Plateau {
  const { trials } = memory;
  const last = memo?.state ?? null;
  const from = last !== null && Object.is(last.baselineMetric, baselineMetric) && goesOn(trials, last) ? last : null;
  let { stale, ties } = from?.plateau ?? { stale: 0, ties: 0 };
  let incumbent = from !== null ? from.incumbent : baselineMetric;
  for (let i = from?.seen ?? 0; i < trials.length; i++) {
    const trial = trials[i]!;
    if (trial.outcome === 'keep') [stale, ties, incumbent] = [0, 0, trial.metric];
    else if (trial.outcome === 'discard' || trial.outcome === 'crash') {
      stale++;
      if (trial.outcome === 'discard' && incumbent !== null && trial.metric === incumbent) ties++;
    }
  }
  const plateau = { stale, ties };
  if (memo !== undefined) memo.state = { seen: trials.length, first: trials[0], last: trials.at(-1), baselineMetric, incumbent, plateau };
  return plateau;
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
  /** Where the points lie, as the last jump placed them (the tuner keeps one). */
  memo?: JumpMemo;
}

const CANDIDATES = 64;

/**
 * The points' places in the unit cube, kept from one jump to the next and extended by the points
 * added since. A jump measures each of its candidates against every point: with each point placed
 * again and a spread per point and candidate, a jump took 17 ms at 1,000 points and 166 ms at 10,000.
 */
export class JumpMemo {
  state: { key: string; seen: number; first: MeasuredPoint | undefined; last: MeasuredPoint | undefined; at: Float64Array } | null = null;
}

/**
 * Every point's place, point after point (point j's place along constant d at j × constants + d,
 * read in order by the distance loop): the memo's, extended, or made anew.
 */
function placePoints(params: readonly TunedParam[], points: readonly MeasuredPoint[], memo?: JumpMemo): Float64Array {
  const key = rangesKey(params);
  const last = memo?.state ?? null;
  const state = last !== null && last.key === key && goesOn(points, last) ? last : { key, seen: 0, first: undefined, last: undefined, at: new Float64Array(0) };
  const dimensions = params.length;
  if (state.at.length < points.length * dimensions) {
    const grown = new Float64Array(Math.max(2 * state.at.length, points.length * dimensions));
    grown.set(state.at);
    state.at = grown;
  }
  let alone = true;
  for (let j = state.seen; j < points.length; j++) {
    const values = points[j]!.values;
    state.at.set(placeOf(params, values), j * dimensions);
    alone &&= placesAlone(params, values);
  }
  Object.assign(state, { seen: points.length, first: points[0], last: points.at(-1) });
  // A point without a value for some constant stands at today's value: placed again next time.
  if (memo !== undefined) memo.state = alone ? state : null;
  return state.at;
}

export function proposeJump(input: ExploreInput, rng: Rng): { changes: TuningChange[]; why: string } | null {
  const { params } = input;
  const count = Math.min(Math.max(1, input.maxChanges), params.length);
  const placed = placePoints(params, input.points, input.memo);
  const pending = Float64Array.from(input.pending.flatMap((values) => placeOf(params, values)));
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
    const u = placeOf(params, values);
    // A loop, not a spread of every distance into Math.min, which overflowed the stack past
    // about 120,000 points.
    const distance = Math.sqrt(Math.min(nearestSquares(placed, input.points.length, u), nearestSquares(pending, input.pending.length, u)));
    if (best === null || distance > best.distance) best = { changes, distance };
  }
  if (best === null) return null;
  const order = new Map(params.map((p, i) => [p.name, i]));
  best.changes.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  return { changes: best.changes, why: `a jump to the candidate farthest from the ${input.points.length + input.pending.length} point(s) measured or in flight` };
}

/** The smallest squared distance from `u` to the first `count` places of `places` (point after point); Infinity for none. */
function nearestSquares(places: Float64Array, count: number, u: readonly number[]): number {
  const dimensions = u.length;
  let nearest = Infinity;
  for (let at = 0; at < count * dimensions; at += dimensions) {
    let squares = 0;
    for (let d = 0; d < dimensions; d++) {
      const difference = places[at + d]! - u[d]!;
      squares += difference * difference;
    }
    if (squares < nearest) nearest = squares;
  }
  return nearest;
}
