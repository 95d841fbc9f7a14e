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
import { writtenChange } from './literal.js';
import { fromUnit, toUnit } from './space.js';

export interface GlobalInput {
  params: readonly TunedParam[];
  points: readonly MeasuredPoint[];
  /** Keys of combinations never to propose (measured, refused, in flight). */
  /** Combinations already measured, refused or in flight (vectorKey). */
  avoid: { has(key: string): boolean };
  /** Values of the proposals in flight. */
  pending: readonly ReadonlyMap<string, number>[];
  direction: Direction;
  maxChanges: number;
  /** 0..1: how far from the measured points to look (grows the longer no change was kept). */
  exploration: number;
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
  let best: { changes: TuningChange[]; score: number } | null = null;
  for (let c = 0; c < CANDIDATES; c++) {
    const changes = drawCandidate(input, model, rng);
    if (changes.length === 0) continue;
    const values = new Map(params.map((p) => [p.name, p.value]));
    for (const change of changes) values.set(change.name, change.to);
    if (input.avoid.has(vectorKey(params, values))) continue;
    const score = scoreOf(model, params, values) + input.exploration * distanceToMeasured(model, params, values);
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

interface Model {
  good: Weighted[];
  bad: Weighted[];
  measured: number;
  /** Kernel widths for the good and the bad group, in the unit range of each constant. */
  goodWidth: number;
  badWidth: number;
}

function buildModel(input: GlobalInput): Model {
  const { params, points, direction } = input;
  const unit = (values: ReadonlyMap<string, number>) => params.map((p) => toUnit(p, values.get(p.name) ?? p.value));
  const isMeasured = (p: MeasuredPoint) => p.metric !== null && p.outcome !== 'crash' && Number.isFinite(p.metric);
  const measured = points.filter(isMeasured);
  const oriented = (p: MeasuredPoint) => (direction === 'maximize' ? -p.metric! : p.metric!);
  const byMetric = (a: MeasuredPoint, b: MeasuredPoint) => oriented(a) - oriented(b);
  // The good group's bar, from the metrics alone: sorting every point by metric for each proposal
  // cost 3 ms by trial 10,000. Only the groups' own points are sorted (stably, as before).
  const cut = Math.max(1, Math.ceil(GOOD_FRACTION * measured.length));
  const bar = measured.length > 0 ? Float64Array.from(measured, oriented).sort()[cut - 1]! : 0;
  // Each candidate is scored against every point of the model: a run of thousands of trials
  // keeps its best MAX_GOOD_POINTS and its latest MAX_BAD_POINTS others (hyperopt and Optuna cap
  // the good group too), so a proposal costs the same at trial 10,000 as at trial 1,000.
  const inGood = measured.filter((p) => oriented(p) <= bar);
  const good = inGood.sort(byMetric).slice(0, MAX_GOOD_POINTS).map((p) => ({ u: unit(p.values), weight: 1 }));
  const isBad = (p: MeasuredPoint) => !isMeasured(p) || oriented(p) > bar;
  const rest = () => [...measured.filter((p) => oriented(p) > bar).sort(byMetric), ...points.filter((p) => !isMeasured(p))];
  let latest: MeasuredPoint[];
  if (points.length - inGood.length <= MAX_BAD_POINTS) latest = rest();
  // Points come oldest first, one a trial: the latest are the last ones, with no sort.
  else if (points.every((p, i) => i === 0 || points[i - 1]!.trial < p.trial)) latest = points.filter(isBad).slice(-MAX_BAD_POINTS);
  else latest = rest().sort((a, b) => a.trial - b.trial).slice(-MAX_BAD_POINTS);
  const bad = latest.map((p) => ({ u: unit(p.values), weight: 1 }));
  const width = (n: number) => Math.min(0.3, Math.max(0.04, 0.5 / Math.sqrt(n + 1)));
  return {
    good,
    bad: [...bad, ...input.pending.map((values) => ({ u: unit(values), weight: PENDING_WEIGHT }))],
    measured: measured.length,
    goodWidth: width(good.length),
    badWidth: width(bad.length),
  };
}

/** log l(x) − log g(x), each a product over constants of kernel-plus-prior densities. */
function scoreOf(model: Model, params: readonly TunedParam[], values: ReadonlyMap<string, number>): number {
  let score = 0;
  params.forEach((p, d) => {
    const u = toUnit(p, values.get(p.name) ?? p.value);
    score += Math.log(density(model.good, d, u, model.goodWidth)) - Math.log(density(model.bad, d, u, model.badWidth));
  });
  return score;
}

function density(points: readonly Weighted[], d: number, u: number, width: number): number {
  let sum = PRIOR_WEIGHT;
  let total = PRIOR_WEIGHT;
  for (const { u: at, weight } of points) {
    const z = (u - at[d]!) / width;
    sum += (weight * Math.exp(-0.5 * z * z)) / (width * Math.sqrt(2 * Math.PI));
    total += weight;
  }
  return sum / total;
}

/** The smallest distance (in the unit cube, over all constants) to a point measured or in flight. */
function distanceToMeasured(model: Model, params: readonly TunedParam[], values: ReadonlyMap<string, number>): number {
  const u = params.map((p) => toUnit(p, values.get(p.name) ?? p.value));
  let nearest = Infinity;
  for (const point of [...model.good, ...model.bad]) {
    const d2 = point.u.reduce((sum, x, i) => sum + (x - u[i]!) ** 2, 0);
    nearest = Math.min(nearest, d2);
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
