/**
 * The tuner's global search: a tree-structured Parzen estimator (TPE, Bergstra et al. 2011) over
 * every point the run measured, in the normalised space. The measured points are split into the
 * good (the best quarter, and every point tied with the worst of them: a plateau is one region,
 * not one point) and the rest (crashes included); each group becomes a density per constant
 * (a Gaussian kernel at each point plus a uniform prior), and of many drawn candidates the one
 * where good is most likely relative to the rest is proposed. Candidates change at most
 * `maxChanges` constants of the best values, drawn from the good density or, far from anything
 * measured, uniformly: that is how the tuner leaves a plateau a local step cannot see past.
 * Points being measured now count as half a bad point each, so proposals in flight spread out.
 */
import type { Direction } from '../../core/objective.js';
import type { Rng } from './rng.js';
import type { TunedParam, TuningChange } from './types.js';
import type { MeasuredPoint } from './history.js';
import { vectorKey } from './history.js';
import { goesOn } from '../../core/appended-list.js';
import { writtenChange } from './literal.js';
import { fromUnit, placeOf, placesAlone, rangesKey, toUnit } from './space.js';

export interface GlobalInput {
  params: readonly TunedParam[];
  points: readonly MeasuredPoint[];
  /** Combinations never to propose: measured, refused or in flight (vectorKey). */
  avoid: { has(key: string): boolean };
  /** Values of the proposals in flight. */
  pending: readonly ReadonlyMap<string, number>[];
  direction: Direction;
  maxChanges: number;
  /** 0..1: how far from the measured points to look (grows the longer no change was kept). */
  exploration: number;
  /** What the last proposal's model read from the points, extended rather than redone (the tuner keeps one). */
  memo?: ModelMemo;
}

const CANDIDATES = 96;
const GOOD_FRACTION = 0.25;
const PRIOR_WEIGHT = 1;
const PENDING_WEIGHT = 0.5;
const MAX_GOOD_POINTS = 250;
const MAX_BAD_POINTS = 750;

export function proposeGlobal(input: GlobalInput, rng: Rng): { changes: TuningChange[]; why: string } | null {
  const { params } = input;
  const model = buildModel(input);
  const scoreOf = createScorer(model, params);
  let best: { changes: TuningChange[]; score: number } | null = null;
  for (let c = 0; c < CANDIDATES; c++) {
    const changes = drawCandidate(input, model, rng);
    if (changes.length === 0) continue;
    const values = new Map(params.map((p) => [p.name, p.value]));
    for (const change of changes) values.set(change.name, change.to);
    if (input.avoid.has(vectorKey(params, values))) continue;
    const score = scoreOf(values) + input.exploration * distanceToMeasured(model, params, values);
    if (best === null || score > best.score) best = { changes, score };
  }
  if (best === null) return null;
  const described = model.good.length === 0 ? 'no measurements yet' : `${model.good.length} good of ${model.measured} measured points`;
  return { changes: best.changes, why: `global search (${described})` };
}

interface Weighted {
  u: number[];
  weight: number;
}

/**
 * A group's points by constant: column d holds every point's coordinate d, in the group's order.
 * The scorer reads one constant of every point per term, and the distance every constant of every
 * point per candidate: typed columns read several times faster than an array of points (a
 * proposal at trial 1,000 scores tens of thousands of kernel terms).
 */
interface Columns {
  at: Float64Array[];
  weight: Float64Array;
}

function columnsOf(points: readonly Weighted[], dimensions: number): Columns {
  const at = Array.from({ length: dimensions }, () => new Float64Array(points.length));
  const weight = new Float64Array(points.length);
  points.forEach((point, i) => {
    for (let d = 0; d < dimensions; d++) at[d]![i] = point.u[d]!;
    weight[i] = point.weight;
  });
  return { at, weight };
}

interface Model {
  good: Weighted[];
  bad: Weighted[];
  /** good and bad by constant. */
  goodColumns: Columns;
  badColumns: Columns;
  measured: number;
  /** Kernel widths for the good and the bad group, in the unit range of each constant. */
  goodWidth: number;
  badWidth: number;
}

/**
 * What the global model keeps between proposals: each point's metric, the measured points in
 * order of metric, and each point's place in the unit cube. A run's points only ever grow at the
 * end (the tuner's memory is extended with new points, or rebuilt from new objects), so a proposal
 * reads only the points after the last one it saw: selecting the good group among every measured
 * point at each proposal grew with the run, 2.8 ms a global step by trial 10,000.
 */
export class ModelMemo {
  state: PointIndex | null = null;
}

interface PointIndex {
  /** The direction and the constants' ranges it was built for. */
  key: string;
  /** How many points it holds, and the first and last of them (see goesOn). */
  seen: number;
  first: MeasuredPoint | undefined;
  last: MeasuredPoint | undefined;
  /** Each point's metric, oriented so that lower is better; NaN where none was measured (a crash, no metric). */
  at: number[];
  /** The measured points' indices by metric, ties in the points' order: what a stable sort by metric gives. */
  byMetric: number[];
  /** The unmeasured points' indices, in order. */
  unmeasured: number[];
  /** Each point in the unit cube, once a group needed it (a point that lacks a constant is placed afresh each time). */
  units: (number[] | undefined)[];
  inTrialOrder: boolean;
}

/** The index of `input.points`: the memo's, extended by the points after the last it saw, or built anew. */
function indexPoints(input: GlobalInput): PointIndex {
  const { params, points, direction } = input;
  const key = `${direction} ${rangesKey(params)}`;
  const last = input.memo?.state ?? null;
  const index: PointIndex = last !== null && last.key === key && goesOn(points, last) ? last : { key, seen: 0, first: undefined, last: undefined, at: [], byMetric: [], unmeasured: [], units: [], inTrialOrder: true };
  for (let i = index.seen; i < points.length; i++) {
    const p = points[i]!;
    const measured = p.metric !== null && p.outcome !== 'crash' && Number.isFinite(p.metric);
    index.at.push(measured ? (direction === 'maximize' ? -p.metric! : p.metric!) : NaN);
    index.units.push(undefined);
    if (measured) insertByMetric(index.byMetric, index.at, i);
    else index.unmeasured.push(i);
    if (i > 0 && points[i - 1]!.trial >= p.trial) index.inTrialOrder = false;
  }
  index.seen = points.length;
  index.first = points[0];
  index.last = points.at(-1);
  if (input.memo !== undefined) input.memo.state = index;
  return index;
}

/** Places point `i`, newer than every point in `order`, after those with a metric at or under its own. */
function insertByMetric(order: number[], at: readonly number[], i: number): void {
  order.splice(countAtOrUnder(order, at, at[i]!), 0, i);
}

/** How many of `order`'s points (in order of metric) have a metric at or under `bar`. */
function countAtOrUnder(order: readonly number[], at: readonly number[], bar: number): number {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (at[order[mid]!]! <= bar) low = mid + 1;
    else high = mid;
  }
  return low;
}

function buildModel(input: GlobalInput): Model {
  const { params, points } = input;
  const index = indexPoints(input);
  const { at, byMetric } = index;
  const unit = (i: number): number[] => {
    let u = index.units[i];
    if (u === undefined) {
      const values = points[i]!.values;
      u = placeOf(params, values);
      if (placesAlone(params, values)) index.units[i] = u;
    }
    return u;
  };
  // The good group: the best quarter of the measured points, and every point tied with the worst
  // of them (NaN compares false: an unmeasured point is never good).
  const measured = byMetric.length;
  const cut = Math.max(1, Math.ceil(GOOD_FRACTION * measured));
  const bar = measured > 0 ? at[byMetric[cut - 1]!]! : 0;
  const inGood = countAtOrUnder(byMetric, at, bar);
  // Each candidate is scored against every point of the model: a run of thousands of trials
  // keeps its best MAX_GOOD_POINTS and its latest MAX_BAD_POINTS others (hyperopt and Optuna cap
  // the good group too), so a proposal costs the same at trial 10,000 as at trial 1,000.
  const good: Weighted[] = [];
  for (let k = 0; k < Math.min(inGood, MAX_GOOD_POINTS); k++) good.push({ u: unit(byMetric[k]!), weight: 1 });
  // The rest: the measured ones by metric, then the unmeasured ones in order.
  const rest = () => [...byMetric.slice(inGood), ...index.unmeasured];
  let latest: number[];
  if (points.length - inGood <= MAX_BAD_POINTS) latest = rest();
  // Points come oldest first, one a trial: the latest are the last ones, with no sort.
  else if (index.inTrialOrder) latest = lastOf(points.length, (i) => !(at[i]! <= bar), MAX_BAD_POINTS);
  else latest = rest().sort((a, b) => points[a]!.trial - points[b]!.trial).slice(-MAX_BAD_POINTS);
  const bad = latest.map((i) => ({ u: unit(i), weight: 1 }));
  const width = (n: number) => Math.min(0.3, Math.max(0.04, 0.5 / Math.sqrt(n + 1)));
  const badAndPending = [...bad, ...input.pending.map((values) => ({ u: placeOf(params, values), weight: PENDING_WEIGHT }))];
  return {
    good,
    bad: badAndPending,
    goodColumns: columnsOf(good, params.length),
    badColumns: columnsOf(badAndPending, params.length),
    measured,
    goodWidth: width(good.length),
    badWidth: width(bad.length),
  };
}

/** The last `count` of the indices below `length` that pass `test`, in order, looked for from the end. */
function lastOf(length: number, test: (index: number) => boolean, count: number): number[] {
  const found: number[] = [];
  for (let i = length - 1; i >= 0 && found.length < count; i--) if (test(i)) found.push(i);
  return found.reverse();
}

/**
 * log l(x) − log g(x), each a product over constants of kernel-plus-prior densities. A candidate
 * moves one or two constants of the best values, so most of its terms are ones an earlier
 * candidate had: each constant's term is computed once per value (the same number, so the same
 * scores and the same choice) instead of once per candidate.
 */
function createScorer(model: Model, params: readonly TunedParam[]): (values: ReadonlyMap<string, number>) => number {
  const terms = params.map(() => new Map<number, number>());
  return (values) => {
    let score = 0;
    params.forEach((p, d) => {
      const u = toUnit(p, values.get(p.name) ?? p.value);
      let term = terms[d]!.get(u);
      if (term === undefined) {
        term = Math.log(density(model.goodColumns, d, u, model.goodWidth)) - Math.log(density(model.badColumns, d, u, model.badWidth));
        terms[d]!.set(u, term);
      }
      score += term;
    });
    return score;
  };
}

function density(points: Columns, d: number, u: number, width: number): number {
  let sum = PRIOR_WEIGHT;
  let total = PRIOR_WEIGHT;
  const norm = width * Math.sqrt(2 * Math.PI);
  const at = points.at[d]!;
  const weights = points.weight;
  for (let i = 0; i < weights.length; i++) {
    const z = (u - at[i]!) / width;
    sum += (weights[i]! * Math.exp(-0.5 * z * z)) / norm;
    total += weights[i]!;
  }
  return sum / total;
}

/** The smallest distance (in the unit cube, over all constants) to a point measured or in flight. */
function distanceToMeasured(model: Model, params: readonly TunedParam[], values: ReadonlyMap<string, number>): number {
  const u = placeOf(params, values);
  let nearest = Infinity;
  for (const group of [model.goodColumns, model.badColumns]) {
    for (let j = 0; j < group.weight.length; j++) {
      let d2 = 0;
      for (let i = 0; i < u.length; i++) d2 += (group.at[i]![j]! - u[i]!) ** 2;
      nearest = Math.min(nearest, d2);
    }
  }
  return nearest === Infinity ? 0 : Math.sqrt(nearest / params.length);
}

/**
 * One candidate: one constant (half the time) or up to `maxChanges`, each drawn from the good
 * density (a good point's value plus kernel noise) or, with the prior's share, uniformly.
 */
function drawCandidate(input: GlobalInput, model: Model, rng: Rng): TuningChange[] {
  const { params } = input;
  const most = Math.min(Math.max(1, input.maxChanges), params.length);
  const count = most === 1 || rng() < 0.5 ? 1 : 2 + Math.floor(rng() * (most - 1));
  const pool = [...params];
  const changes: TuningChange[] = [];
  const priorShare = PRIOR_WEIGHT / (PRIOR_WEIGHT + model.good.length);
  for (let i = 0; i < count && pool.length > 0; i++) {
    const param = pool.splice(Math.floor(rng() * pool.length), 1)[0]!;
    const d = params.indexOf(param);
    let u: number;
    if (model.good.length === 0 || rng() < Math.max(priorShare, input.exploration * 0.5)) u = rng();
    else {
      const centre = model.good[Math.floor(rng() * model.good.length)]!.u[d]!;
      u = centre + model.goodWidth * gaussian(rng);
    }
    const change = changeTo(param, u);
    if (change !== null) changes.push(change);
  }
  const order = new Map(params.map((p, i) => [p.name, i]));
  return changes.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
}

/** The change that writes the value at `u` (reflected into [0, 1]) the way the file writes it. */
export function changeTo(param: TunedParam, u: number): TuningChange | null {
  const reflected = u < 0 ? -u : u > 1 ? 2 - u : u;
  let to = fromUnit(param, Math.min(1, Math.max(0, reflected)));
  if (param.int) to = Math.round(to);
  return writtenChange(param, to);
}

function gaussian(rng: Rng): number {
  const a = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * rng());
}
