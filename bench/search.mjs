/**
 * `npm run bench:search`: figures, not tests.
 *
 *   node bench/search.mjs [--seeds 10] [--trials 20] [--workers 2] [--examples regression,compress]
 *                         [--skip-examples] [--skip-strategies]
 *
 * (a) The tuner against uniform random search at equal trials on every bundled example whose
 *     metric is deterministic (regression, compress, classifier, snake; sorting is timed, gomoku
 *     and lm take minutes a trial): 10 seeds each, the best metric after 5, 10 and 20 trials,
 *     median and quartiles. Each trial runs the example's own hidden harness on the rewritten
 *     editable file (bench/lib/search-examples.mjs); git and the agent turn are left out, the
 *     keep rule is the loop's greedy one. Harness results are cached in bench/.cache by the
 *     file's text (the harnesses are deterministic; the bench checks the baseline twice).
 * (b) `tree` against `greedy` (and `restart`, `beam`) at equal trials on a synthetic landscape
 *     with a local optimum, with a scripted agent: a pure simulation over the strategies in
 *     dist/loop/strategy.js (bench/lib/search-landscape.mjs).
 *
 * Prints tables and writes bench/results/search.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, percentile, round } from './lib/stats.mjs';
import { DETERMINISTIC_EXAMPLES, createEvaluator } from './lib/search-examples.mjs';
import { loadTunerParts, runRandom, runTuner } from './lib/search-drivers.mjs';
import { runStrategyFigure } from './lib/search-landscape.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const args = parseArgs(process.argv.slice(2));
const seeds = Number(args.seeds ?? 10);
const trials = Number(args.trials ?? 20);
const checkpoints = [5, 10, 20].filter((n) => n <= trials);
const results = { seeds, trials, checkpoints, examples: {}, strategies: null };

if (!args['skip-examples']) {
  const parts = await loadTunerParts(repoRoot);
  const wanted = args.examples === undefined ? null : new Set(String(args.examples).split(',').map((e) => `optimize-${e}`));
  for (const example of DETERMINISTIC_EXAMPLES.filter((e) => wanted === null || wanted.has(e.name))) {
    const evaluator = createEvaluator(repoRoot, example, { workers: Number(args.workers ?? 2), cacheDir: path.join(benchDir, '.cache') });
    try {
      const baseline = await evaluator.checkDeterministic();
      const runs = { tuner: [], random: [] };
      for (const method of ['tuner', 'random']) {
        const run = method === 'tuner' ? runTuner : runRandom;
        runs[method] = await Promise.all(Array.from({ length: seeds }, (_, seed) => run(parts, evaluator, example, { seed, trials })));
        evaluator.save();
      }
      results.examples[example.name] = { metric: example.metric, direction: example.direction, baseline, runs, harnessRuns: evaluator.harnessRuns() };
      printExample(example, baseline, runs);
    } finally {
      evaluator.dispose();
    }
  }
}

if (!args['skip-strategies']) {
  results.strategies = await runStrategyFigure(repoRoot, { seeds, trials: Math.max(trials, 60) });
  console.log(`\n${results.strategies.title}\n${results.strategies.table}\n`);
}

mkdirSync(path.join(benchDir, 'results'), { recursive: true });
const suffix = args['skip-examples'] ? '-strategies' : args.examples === undefined ? '' : `-${String(args.examples).replace(/,/g, '-')}`;
const file = path.join(benchDir, 'results', `search${suffix}.json`);
writeFileSync(file, `${JSON.stringify({ ...results, strategies: results.strategies?.data ?? null }, null, 1)}\n`);
console.log(`written: ${path.relative(repoRoot, file)}`);

function printExample(example, baseline, runs) {
  const digits = Math.abs(baseline) >= 100 ? 1 : 3;
  const cell = (curves, n) => {
    const values = curves.map((c) => c[n - 1]);
    const [q1, med, q3] = [25, 50, 75].map((p) => round(percentile(values, p), digits));
    return `${med} [${q1}–${q3}]`;
  };
  const rows = ['tuner', 'random'].map((m) => [m, ...checkpoints.map((n) => cell(runs[m], n))]);
  const wins = runs.tuner.filter((c, i) => (example.direction === 'maximize' ? c.at(-1) > runs.random[i].at(-1) : c.at(-1) < runs.random[i].at(-1))).length;
  const ties = runs.tuner.filter((c, i) => c.at(-1) === runs.random[i].at(-1)).length;
  console.log(`\n${example.name}: ${example.metric} (${example.direction === 'maximize' ? '↑' : '↓'}), baseline ${baseline}; best after n trials, median [quartiles] over ${seeds} seeds`);
  console.log(formatTable(['search', ...checkpoints.map((n) => `n = ${n}`)], rows));
  console.log(`seed by seed at n = ${trials}: tuner better ${wins}, level ${ties}, worse ${seeds - wins - ties}`);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) out[key] = argv[++i];
    else out[key] = true;
  }
  return out;
}
