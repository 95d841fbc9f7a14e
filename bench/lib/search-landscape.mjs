/**
 * `tree` against `greedy` (and `restart`, `beam`) on a landscape with a local optimum: a pure
 * simulation over the strategies of dist/loop/strategy.js, serial, with a scripted agent.
 *
 * A node is a position x in 0..60; f(x) = max(6 − 0.4·|x − 40|, 10 − 0.27·x): a local peak of
 * 6 at x = 40, the global one of 10 at x = 0, the baseline in the valley at x = 30 (2.0), where
 * both ways go up, the local peak's more steeply. The agent moves its start node's x by ±1 (70 %)
 * or by ±2..8 (30 %), seeded per trial. From the local peak no move reaches anything better, so a
 * chain that climbs it is stuck there; the way out is a kept node that is not the best (x = 29
 * beats the baseline, not the peak), which only a strategy that keeps "better than its parent" has.
 * Keep rule: greedy keeps what beats the incumbent; the others keep what beats its parent node.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatTable, percentile, round } from './stats.mjs';

const START = 30;

const f = (x) => Math.max(6 - 0.4 * Math.abs(x - 40), 10 - 0.27 * x);

export async function runStrategyFigure(repoRoot, { seeds, trials }) {
  const { createStrategy, DEFAULT_SEARCH } = await import(pathToFileURL(path.join(repoRoot, 'dist', 'loop', 'strategy.js')).href);
  const { createRng, hashSeed } = await import(pathToFileURL(path.join(repoRoot, 'dist', 'agents', 'tuner', 'rng.js')).href);
  const names = ['greedy', 'restart', 'beam', 'tree'];
  const data = {};
  for (const name of names) {
    data[name] = [];
    for (let seed = 0; seed < seeds; seed++) {
      const strategy = createStrategy({ ...DEFAULT_SEARCH, strategy: name }, 'maximize');
      data[name].push(simulate(strategy, name === 'greedy', createRng, hashSeed, seed, trials));
    }
  }
  const checkpoints = [10, 20, trials].filter((n, i, all) => n <= trials && all.indexOf(n) === i);
  const rows = names.map((name) => [
    name,
    ...checkpoints.map((n) => {
      const v = data[name].map((c) => c[n - 1]);
      return `${round(percentile(v, 50), 1)} [${round(percentile(v, 25), 1)}–${round(percentile(v, 75), 1)}]`;
    }),
    `${data[name].filter((c) => c.at(-1) > 6).length}/${seeds}`,
  ]);
  return {
    title: `strategies on a landscape with a local optimum (6 at x = 40, global 10 at x = 0; baseline x = 30, 2.0), simulated, scripted agent; best after n trials, median [quartiles] over ${seeds} seeds`,
    table: formatTable(['strategy', ...checkpoints.map((n) => `n = ${n}`), 'past the local peak'], rows),
    data: { checkpoints, curves: data },
  };
}

function simulate(strategy, greedyKeep, createRng, hashSeed, seed, trials) {
  const xs = new Map([['c0', START]]);
  const summaries = [summary(0, 'baseline', 'c0', f(START), undefined)];
  let incumbent = 'c0';
  const curve = [];
  for (let n = 1; n <= trials; n++) {
    const state = { incumbent, trials: summaries };
    if (strategy.stopReason(state) !== null) {
      curve.push(curve.at(-1) ?? f(START));
      continue;
    }
    const parent = strategy.chooseParent(state);
    const rng = createRng(hashSeed('agent', seed, n));
    const size = rng() < 0.7 ? 1 : 2 + Math.floor(rng() * 7);
    const x = Math.min(60, Math.max(0, xs.get(parent) + (rng() < 0.5 ? -size : size)));
    const metric = f(x);
    const bar = greedyKeep ? summaries.find((t) => t.commit === incumbent).metric : summaries.find((t) => t.commit === parent).metric;
    const kept = metric > bar;
    const commit = `c${n}`;
    xs.set(commit, x);
    summaries.push(summary(n, kept ? 'keep' : 'discard', commit, metric, parent));
    const best = summaries.filter((t) => t.outcome !== 'discard').reduce((a, b) => (b.metric > a.metric ? b : a));
    incumbent = best.commit;
    curve.push(best.metric);
  }
  return curve;
}

function summary(trial, outcome, commit, metric, base) {
  return { trial, outcome, metric, description: '', commit, files: [], best: null, agentMs: 0, runMs: 0, totalMs: 0, costUsd: null, ...(base === undefined ? {} : { parent: base, base }) };
}
