/**
 * `tree` against `greedy` (and `restart`, `beam`) on a deceptive landscape of two knobs: a pure
 * simulation over the strategies of dist/loop/strategy.js, serial, with a scripted agent.
 *
 * Two knobs a, b in 0..40, the baseline at (20, 20), where f = 0. f = max(L, G):
 * - L = 6 − 0.5·(|a − 26| + |b − 26|), a broad local peak of 6 at (26, 26): raising either knob
 *   climbs it;
 * - G = 0.5·(20 − b) − 2·|a − 20|, a narrow ridge to the global peak of 10 at (20, 0): only
 *   lowering b with a left at 20 climbs it, at the same slope.
 * The agent changes one knob of its start node, either way, by 1 (70 %) or by 2..8 (30 %), seeded
 * per trial, and never proposes a point already measured (the prompt lists what was tried). From
 * the baseline two moves in four climb L and one climbs G; G beats the local peak only where
 * b < 8, beyond any move from L's side, and from G's first nodes a jump up either knob lands
 * higher on L's slope. Greedy always builds on the best node, so it is drawn to L and stays:
 * the way out is to build on a node that is not the best (the baseline, or the ridge's first
 * nodes), which only strategies that keep "better than its parent" can do. Keep rule: greedy
 * keeps what beats the incumbent; the others keep what beats its parent node.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatTable, percentile, round } from './stats.mjs';

const START = [20, 20];
const LOCAL_PEAK = 6;
const SPAN = 40;

/** L: the local peak (6 at (26, 26)); G: the ridge to the global peak (10 at (20, 0)). */
export const landscape = ([a, b]) => Math.max(singlePeak([a, b]), 0.5 * (20 - b) - 2 * Math.abs(a - 20));
/** L alone: a landscape without a trap, where exploring only costs (the peak, 6, is the best). */
export const singlePeak = ([a, b]) => LOCAL_PEAK - 0.5 * (Math.abs(a - 26) + Math.abs(b - 26));

export async function loadStrategies(repoRoot) {
  const strategy = await import(pathToFileURL(path.join(repoRoot, 'dist', 'loop', 'strategy.js')).href);
  const rng = await import(pathToFileURL(path.join(repoRoot, 'dist', 'agents', 'tuner', 'rng.js')).href);
  return { ...strategy, ...rng };
}

/** The best value after each trial, per strategy and seed; `settings` override DEFAULT_SEARCH. */
export function simulateAll(parts, names, { seeds, trials, settings = {}, surface = landscape }) {
  const data = {};
  for (const name of names) {
    data[name] = [];
    for (let seed = 0; seed < seeds; seed++) {
      const strategy = parts.createStrategy({ ...parts.DEFAULT_SEARCH, ...settings, strategy: name }, 'maximize');
      data[name].push(simulate(parts, strategy, name === 'greedy', seed, trials, surface));
    }
  }
  return data;
}

export async function runStrategyFigure(repoRoot, { seeds, trials }) {
  const parts = await loadStrategies(repoRoot);
  const names = ['greedy', 'restart', 'beam', 'tree'];
  const data = simulateAll(parts, names, { seeds, trials });
  // What exploring costs where there is no trap: the local peak alone, the best there is.
  const plain = simulateAll(parts, names, { seeds, trials: 20, surface: singlePeak });
  const checkpoints = [10, 20, 40, trials].filter((n, i, all) => n <= trials && all.indexOf(n) === i);
  const cell = (curves, n) => {
    const v = curves.map((c) => c[n - 1]);
    return `${round(percentile(v, 50), 1)} [${round(Math.min(...v), 1)}–${round(Math.max(...v), 1)}]`;
  };
  const rows = names.map((name) => [
    name,
    ...checkpoints.map((n) => cell(data[name], n)),
    `${data[name].filter((c) => c.at(-1) > LOCAL_PEAK).length}/${seeds}`,
    cell(plain[name], 20),
  ]);
  return {
    title: `strategies on a deceptive landscape of two knobs (local peak 6, global 10; baseline 0), simulated, scripted agent; best after n trials, median [range] over ${seeds} seeds; last column: the local peak alone (no trap), best after 20 trials`,
    table: formatTable(['strategy', ...checkpoints.map((n) => `n = ${n}`), 'past the local peak', 'no trap, n = 20'], rows),
    data: { checkpoints, curves: data, noTrap: { trials: 20, curves: plain } },
  };
}

function simulate(parts, strategy, greedyKeep, seed, trials, surface) {
  const points = new Map([['c0', START]]);
  const summaries = [summary(0, 'baseline', 'c0', surface(START), undefined)];
  let incumbent = 'c0';
  const curve = [];
  for (let n = 1; n <= trials; n++) {
    const state = { incumbent, trials: summaries };
    if (strategy.stopReason(state) !== null) {
      curve.push(curve.at(-1) ?? surface(START));
      continue;
    }
    const parent = strategy.chooseParent(state);
    const point = proposeMove(parts.createRng(parts.hashSeed('agent', seed, n)), points.get(parent), points);
    const metric = surface(point);
    const bar = greedyKeep ? summaries.find((t) => t.commit === incumbent).metric : summaries.find((t) => t.commit === parent).metric;
    const kept = metric > bar;
    const commit = `c${n}`;
    points.set(commit, point);
    summaries.push(summary(n, kept ? 'keep' : 'discard', commit, metric, parent));
    const best = summaries.filter((t) => t.outcome !== 'discard').reduce((x, y) => (y.metric > x.metric ? y : x));
    incumbent = best.commit;
    curve.push(best.metric);
  }
  return curve;
}

/** One knob of `from` moved; a point already measured is drawn again (the prompt lists what was tried), up to 20 times. */
function proposeMove(rng, from, points) {
  const seen = new Set([...points.values()].map((p) => p.join()));
  let point = from;
  for (let attempt = 0; attempt < 20; attempt++) {
    const knob = rng() < 0.5 ? 0 : 1;
    const size = rng() < 0.7 ? 1 : 2 + Math.floor(rng() * 7);
    point = [...from];
    point[knob] = Math.min(SPAN, Math.max(0, point[knob] + (rng() < 0.5 ? -size : size)));
    if (!seen.has(point.join())) break;
  }
  return point;
}

function summary(trial, outcome, commit, metric, base) {
  return { trial, outcome, metric, description: '', commit, files: [], best: null, agentMs: 0, runMs: 0, totalMs: 0, costUsd: null, ...(base === undefined ? {} : { parent: base, base }) };
}
