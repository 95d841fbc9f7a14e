/**
 * `npm run bench:noise` (not part of `npm run bench`): can noise fool a keep decision? The real
 * loop (startRun from dist/) on a synthetic noisy project (bench/lib/noise-project.mjs: true value
 * from an editable constant plus seeded Gaussian noise, sd 1), a `command` agent proposing changes
 * whose true gain is 0 or −0.5 noise widths (not better) or +3 (better), under several
 * `evaluation` settings. The same seeds (noise draws and proposals) for every setting.
 *
 *   node bench/noise.mjs [--seeds 8] [--trials 25] [--real-share 0.3] [--all | --only NAME] [--keep]
 *
 * For each setting: the false-keep rate (kept changes whose true value is not above their
 * parent's, over all such changes decided), the keep rate of the +3σ changes, each with its
 * counts and the median and range over the seeds, and the experiment runs per trial (the
 * baseline's not counted). Prints a table and writes bench/results/noise.json. Never run as a
 * timed test.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchGitEnv } from './lib/fixture.mjs';
import { cpuPressure, describeMachine, loadAverage } from './lib/machine.mjs';
import { createNoiseProject, planGains, readTrueValues } from './lib/noise-project.mjs';
import { formatTable, mean, median, round } from './lib/stats.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');

// null: the key is left out (the defaults). "off" is the loop before confirmation existed.
const SETTINGS = [
  { name: 'off', evaluation: '{ baseline_repeats: 1, repeats: 1, confirm: false }' },
  { name: 'defaults', evaluation: null },
  { name: 'repeats 3', evaluation: '{ repeats: 3 }' },
  // With --all: repeats alone, without confirmation, do not stop a tie from being kept half the time.
  { name: 'repeats 3, no confirm', evaluation: '{ repeats: 3, confirm: false }', optional: true },
];

const options = parseOptions(process.argv.slice(2));
const startRunFile = path.join(repoRoot, 'dist', 'loop', 'start-run.js');
if (!existsSync(startRunFile)) {
  process.stderr.write('dist/ is missing: run `npm run bench:noise` (it builds first) or `npm run build`.\n');
  process.exit(1);
}
const { startRun } = await import(pathToFileURL(startRunFile).href);

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-noise-')));
const baseEnv = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(tmp, 'worktrees') };
const stop = new AbortController();
process.on('SIGINT', () => stop.abort()); // the trial in flight finishes; what was measured is reported

try {
  await main();
} finally {
  if (options.keep) process.stderr.write(`kept ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  const machine = describeMachine();
  const loadBefore = loadAverage();
  const pressure = cpuPressure();
  log(`crucible noise bench: ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.cpuModel}), load ${loadBefore.join(' ')}${pressure ? `, CPU pressure ${pressure.some_avg60}% (60 s)` : ''}`);
  log(`noise sd 1; proposals: +3 (${options.realShare * 100}%), else 0 or −0.5 (3:1); ${options.seeds} seeds × ${options.trials} trials per setting`);
  const settings = SETTINGS.filter((s) => (options.only === null ? options.all || !s.optional : s.name === options.only));
  const results = [];
  for (const setting of settings) {
    if (stop.signal.aborted) break;
    const began = performance.now();
    const seeds = [];
    for (let seed = 1; seed <= options.seeds && !stop.signal.aborted; seed++) seeds.push(await measureSeed(setting, seed));
    const result = summarizeSetting(setting, seeds, performance.now() - began);
    results.push(result);
    log(`  ${setting.name}: ${result.trials} trials in ${(result.wall_ms / 1000).toFixed(0)} s`);
  }
  log('');
  log(renderTable(results));
  const out = {
    date: new Date().toISOString(),
    machine,
    load_average_1_5_15: { before: loadBefore, after: loadAverage() },
    cpu_pressure_percent: { before: pressure, after: cpuPressure() },
    setup: {
      noise_sd: 1,
      gains: { real: 3, not_better: [0, -0.5] },
      real_share: options.realShare,
      seeds: options.seeds,
      trials_per_seed: options.trials,
      parallel: '{ workers: 1, agents: 1 }',
      false_keep: 'kept changes whose true value is not above their parent\'s / such changes decided (keep or discard)',
    },
    settings: results,
  };
  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  writeFileSync(path.join(benchDir, 'results', 'noise.json'), `${JSON.stringify(out, null, 2)}\n`);
  log(`\nwrote ${path.relative(process.cwd(), path.join(benchDir, 'results', 'noise.json'))}`);
}

/** One run of `options.trials` trials on a fresh project: each trial's true gain, outcome and runs. */
async function measureSeed(setting, seed) {
  const root = path.join(tmp, `${setting.name.replace(/[^a-z0-9]+/g, '-')}-${seed}`);
  const gains = planGains(seed, options.trials, options.realShare);
  // Enough draws for every trial at the most runs it can take (2 × max_measurements, default 8).
  const dir = createNoiseProject(root, { seed, gains, evaluation: setting.evaluation, draws: 100 + 20 * options.trials });
  const report = await startRun({ projectDir: dir, tag: 'noise', maxIterations: options.trials, env: baseEnv, stopSignal: stop.signal, reporter: {} });
  const ledger = readFileSync(path.join(dir, '.crucible', 'runs', 'noise', 'ledger.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
  // Runs of the experiment per trial: run.done, once per first measurement (its repeats in `samples`) and per confirm run.
  const runsOf = new Map();
  for (const e of ledger) if (e.type === 'run.done') runsOf.set(e.n, (runsOf.get(e.n) ?? 0) + (Array.isArray(e.samples) ? e.samples.length : 1));
  const history = report.history.filter((s) => s.outcome !== 'baseline');
  const baseline = report.history.find((s) => s.outcome === 'baseline');
  const truth = readTrueValues(dir, history.flatMap((s) => [s.commit, s.base ?? s.parent]).filter(Boolean));
  const trials = history.map((s) => ({
    trial: s.trial,
    outcome: s.outcome,
    gain: round(truth.get(s.commit) - truth.get(s.base ?? s.parent), 6),
    runs: runsOf.get(s.trial) ?? 0,
  }));
  return { seed, stoppedBy: report.reason.kind, baselineSamples: baseline?.samples ?? [baseline?.metric], trials };
}

function summarizeSetting(setting, seeds, wallMs) {
  const all = seeds.flatMap((s) => s.trials);
  const decided = (t) => t.outcome === 'keep' || t.outcome === 'discard';
  const rate = (trials, pick) => {
    const pool = trials.filter((t) => decided(t) && pick(t));
    const kept = pool.filter((t) => t.outcome === 'keep').length;
    return { kept, of: pool.length, rate: pool.length === 0 ? null : round(kept / pool.length, 4) };
  };
  const notBetter = (t) => t.gain <= 0;
  const real = (t) => t.gain >= 3;
  const perSeed = (pick) => seeds.map((s) => rate(s.trials, pick).rate).filter((r) => r !== null);
  const spread = (values) => ({ median: round(median(values), 4), min: round(Math.min(...values), 4), max: round(Math.max(...values), 4) });
  return {
    name: setting.name,
    evaluation: setting.evaluation ?? '(defaults)',
    trials: all.length,
    false_keeps: { ...rate(all, notBetter), per_seed: spread(perSeed(notBetter)) },
    real_keeps: { ...rate(all, real), per_seed: spread(perSeed(real)) },
    runs_per_trial: {
      mean: round(mean(all.map((t) => t.runs))),
      not_better_mean: round(mean(all.filter(notBetter).map((t) => t.runs))),
      real_mean: round(mean(all.filter(real).map((t) => t.runs))),
    },
    baseline_runs: median(seeds.map((s) => s.baselineSamples.length)),
    other_outcomes: all.filter((t) => !decided(t)).map((t) => t.outcome),
    wall_ms: round(wallMs, 0),
    seeds: seeds.map((s) => ({ seed: s.seed, stopped_by: s.stoppedBy, baseline_samples: s.baselineSamples, trials: s.trials })),
  };
}

function renderTable(results) {
  const pct = (r) => (r.rate === null ? 'n/a' : `${(r.rate * 100).toFixed(1)}% (${r.kept}/${r.of})`);
  const range = (s) => `${(s.median * 100).toFixed(0)}% [${(s.min * 100).toFixed(0)}–${(s.max * 100).toFixed(0)}]`;
  return formatTable(
    ['setting', 'false keeps', 'per seed', '+3σ kept', 'per seed', 'runs/trial', '(not better, +3σ)'],
    results.map((r) => [
      r.name,
      pct(r.false_keeps),
      range(r.false_keeps.per_seed),
      pct(r.real_keeps),
      range(r.real_keeps.per_seed),
      r.runs_per_trial.mean.toFixed(1),
      `${r.runs_per_trial.not_better_mean.toFixed(1)}, ${r.runs_per_trial.real_mean.toFixed(1)}`,
    ]),
  );
}

function parseOptions(argv) {
  const result = { seeds: 8, trials: 25, realShare: 0.3, only: null, all: false, keep: false };
  const numbers = { '--seeds': 'seeds', '--trials': 'trials', '--real-share': 'realShare' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') result.keep = true;
    else if (arg === '--all') result.all = true;
    else if (arg === '--only') {
      const name = argv[++i];
      if (!SETTINGS.some((s) => s.name === name)) usage(`--only needs one of: ${SETTINGS.map((s) => JSON.stringify(s.name)).join(', ')}`);
      result.only = name;
    } else if (arg in numbers) {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0) usage(`${arg} needs a number greater than 0`);
      if (arg !== '--real-share' && !Number.isInteger(n)) usage(`${arg} needs a whole number`);
      if (arg === '--real-share' && n >= 1) usage('--real-share needs a number between 0 and 1');
      result[numbers[arg]] = n;
    } else usage(`unknown option ${arg}`);
  }
  return result;
}

function usage(message) {
  process.stderr.write(`${message}\nusage: node bench/noise.mjs [--seeds 8] [--trials 25] [--real-share 0.3] [--all | --only NAME] [--keep]\n`);
  process.exit(2);
}

function log(text) {
  process.stdout.write(`${text}\n`);
}
