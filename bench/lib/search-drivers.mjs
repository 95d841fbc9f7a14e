/**
 * Two searches over one example's marked constants, each a serial run of `trials` trials after
 * the baseline, returning the best metric after every trial:
 *
 * - the tuner, driven as the loop drives it with one slot and greedy keeps: the marked constants
 *   are read back from the best kept text before every proposal, the history holds every trial's
 *   description, outcome and metric, each trial's random source is seeded by (seed, trial), and a
 *   candidate is kept when it is strictly better than the incumbent (crashes are not);
 * - uniform random search: every constant drawn uniformly over its marked range (over the
 *   logarithm for `log` ones; whole numbers rounded), written the way the tuner writes values.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export async function loadTunerParts(repoRoot) {
  const load = (file) => import(pathToFileURL(path.join(repoRoot, 'dist', 'agents', 'tuner', file)).href);
  const [marker, scan, literal, search, rng, description, space] = await Promise.all(
    ['marker.js', 'scan.js', 'literal.js', 'search.js', 'rng.js', 'description.js', 'space.js'].map(load),
  );
  return { ...marker, ...scan, ...literal, ...search, ...rng, ...description, ...space };
}

function readParams(parts, text, file) {
  const scan = parts.parseMarkers(text, file);
  if (scan.problems.length > 0) throw new Error(scan.problems[0]);
  return parts.nameParams(scan.markers);
}

/** `text` with each named constant's literal replaced by `texts[name]`. */
function rewrite(parts, text, params, texts) {
  const lines = text.split('\n');
  for (const p of params) {
    if (!(p.name in texts)) continue;
    lines[p.line - 1] = parts.replaceLiteral(lines[p.line - 1], p.column, p.literal, texts[p.name]);
  }
  return lines.join('\n');
}

const better = (a, b, direction) => b === null || (a !== null && (direction === 'maximize' ? a > b : a < b));

export async function runTuner(parts, evaluator, example, { seed, trials, maxChanges = 2 }) {
  let best = evaluator.original;
  let bestMetric = await evaluator.measure(best);
  const history = [{ trial: 0, outcome: 'baseline', metric: bestMetric, description: 'baseline' }];
  const curve = [];
  for (let trial = 1; trial <= trials; trial++) {
    const params = readParams(parts, best, example.file);
    const rng = parts.createRng(parts.hashSeed(seed, trial));
    const proposal = parts.proposeTuning(params, history, rng, { maxChanges, seed, pending: [], direction: example.direction });
    if (proposal.changes.length === 0) {
      history.push({ trial, outcome: 'agent-error', metric: null, description: '' });
      curve.push(bestMetric);
      continue;
    }
    const texts = Object.fromEntries(proposal.changes.map((c) => [c.name, c.toText]));
    const candidate = rewrite(parts, best, params, texts);
    const metric = await evaluator.measure(candidate);
    const kept = metric !== null && better(metric, bestMetric, example.direction);
    history.push({ trial, outcome: metric === null ? 'crash' : kept ? 'keep' : 'discard', metric, description: parts.formatDescription(proposal.changes) });
    if (kept) {
      best = candidate;
      bestMetric = metric;
    }
    curve.push(bestMetric);
  }
  return curve;
}

export async function runRandom(parts, evaluator, example, { seed, trials }) {
  const params = readParams(parts, evaluator.original, example.file);
  let bestMetric = await evaluator.measure(evaluator.original);
  const rng = parts.createRng(parts.hashSeed('random-search', seed));
  const curve = [];
  for (let trial = 1; trial <= trials; trial++) {
    const texts = {};
    for (const p of params) {
      let value = parts.fromUnit(p, rng());
      if (p.int) value = Math.round(value);
      texts[p.name] = parts.formatValue(value, p.literal, p.int);
    }
    const metric = await evaluator.measure(rewrite(parts, evaluator.original, params, texts));
    if (metric !== null && better(metric, bestMetric, example.direction)) bestMetric = metric;
    curve.push(bestMetric);
  }
  return curve;
}
