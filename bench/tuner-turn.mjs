/**
 * `npm run bench:tuner`: the tuner's own turn (one proposal) over a long run, this build against
 * a baseline, and proof that both propose the same.
 *
 *   node bench/tuner-turn.mjs [--trials 8000] [--every 1000] [--in-flight 0] [--baseline-ref <commit>]
 *
 * Both builds' `proposeTuning` run in this one process, one after the other on the same history
 * at every trial (the order alternating), each with the memo the tuner backend keeps: load from
 * other processes falls on both alike. The run is the loop bench's project (bench/lib/fixture.mjs:
 * four constants, the loss of score.awk, computed here), serial and greedy, or with --in-flight K
 * proposals handed out before each result comes back (measured on the best values of when it
 * comes back, as a rebase would). Any proposal or note that differs between the builds stops the
 * bench: a faster tuner must be the same tuner. Git, files and the experiment are left out (the
 * loop bench has them). Prints the median turn per --every trials and writes
 * bench/results/tuner-turn.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, loadAverage } from './lib/machine.mjs';
import { buildRef } from './lib/overhead.mjs';
import { formatTable, median, round } from './lib/stats.mjs';

// main before the tuner's turn was made incremental (TuningMemo).
const DEFAULT_BASELINE = '790b9a4';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const args = parseArgs(process.argv.slice(2));

const PARAMS = `ALPHA = 5.0 # @tune 0.001..1000 log\nBETA = 300 # @tune 1..1000000 int log\nGAMMA = 0.5 # @tune 0.0001..10 log\nDELTA = 64 # @tune 1..100000 int log\n`;
const TARGETS = { ALPHA: 0.37, BETA: 4242, GAMMA: 0.0123, DELTA: 777 };

/** score.awk's loss, printed with six decimals as it prints it: ties happen as in the real run. */
function loss(text) {
  let total = 0;
  for (const [, name, value] of text.matchAll(/^(\w+) = (\S+)/gm)) total += Math.log(Number(value) / TARGETS[name]) ** 2;
  return Number(total.toFixed(6));
}

async function loadTuner(dist) {
  const load = (file) => import(pathToFileURL(path.join(dist, 'agents', 'tuner', file)).href);
  const [marker, scan, literal, search, rng, description, history] = await Promise.all(
    ['marker.js', 'scan.js', 'literal.js', 'search.js', 'rng.js', 'description.js', 'history.js'].map(load),
  );
  // What the backend keeps between proposals: TuningMemo, or HistoryMemo in builds before it.
  const memo = search.TuningMemo ? new search.TuningMemo() : new history.HistoryMemo();
  return { marker, scan, literal, search, rng, description, memo };
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-tuner-'));
try {
  const baselineRef = args['baseline-ref'] ?? DEFAULT_BASELINE;
  console.error(`building ${baselineRef} …`);
  const baseline = await loadTuner(buildRef(repoRoot, baselineRef, path.join(scratch, 'base')));
  const current = await loadTuner(path.join(repoRoot, 'dist'));
  const trials = Number(args.trials ?? 8000);
  const every = Number(args.every ?? 1000);
  const inFlight = Number(args['in-flight'] ?? 0);
  const load = { before: loadAverage() };
  const windows = run(baseline, current, { trials, every, inFlight });
  load.after = loadAverage();
  const rows = windows.map((w) => [w.trials, w.baselineMs.toFixed(2), w.currentMs.toFixed(2), (w.currentMs / w.baselineMs).toFixed(3)]);
  console.log(`\nThe tuner's turn, median ms per proposal (${inFlight === 0 ? 'serial' : `${inFlight} in flight`}), ${baselineRef} against this build; the same proposals at all ${trials} trials\n`);
  console.log(formatTable(['trials', baselineRef, 'this build', 'ratio'], rows));
  const out = path.join(benchDir, 'results', inFlight === 0 ? 'tuner-turn.json' : `tuner-turn-in-flight-${inFlight}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine: describeMachine(), load, baselineRef, trials, inFlight, windows }, null, 1)}\n`);
  console.log(`\nwrote ${path.relative(repoRoot, out)}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function run(baseline, current, { trials, every, inFlight }) {
  const { marker, scan, literal, description } = current;
  const paramsOf = (text) => scan.nameParams(marker.parseMarkers(text, 'params.txt').markers);
  const rewrite = (text, params, changes) => {
    const lines = text.split('\n');
    for (const c of changes) {
      const p = params.find((x) => x.name === c.name);
      lines[p.line - 1] = literal.replaceLiteral(lines[p.line - 1], p.column, p.literal, c.toText);
    }
    return lines.join('\n');
  };
  let text = PARAMS;
  let best = loss(text);
  const history = [{ trial: 0, outcome: 'baseline', metric: best, description: 'baseline' }];
  const flying = [];
  const windows = [];
  let times = { baseline: [], current: [] };
  const propose = (build, params, trial) => {
    const pending = flying.map((f) => build.description.parseDescription(f.description)).filter((c) => c !== null);
    const rng = build.rng.createRng(build.rng.hashSeed(7, trial));
    const started = performance.now();
    const proposal = build.search.proposeTuning(params, history, rng, { maxChanges: 2, seed: 7, pending, direction: 'minimize', memo: build.memo });
    return { proposal, ms: performance.now() - started };
  };
  for (let trial = 1; trial <= trials; trial++) {
    const params = paramsOf(text);
    const order = trial % 2 === 1 ? ['baseline', 'current'] : ['current', 'baseline'];
    const made = {};
    for (const which of order) made[which] = propose(which === 'baseline' ? baseline : current, params, trial);
    for (const which of order) times[which].push(made[which].ms);
    const said = (p) => `${description.formatDescription(p.changes)}\n${p.notes.join('\n')}`;
    if (said(made.baseline.proposal) !== said(made.current.proposal)) {
      throw new Error(`trial ${trial}: the builds proposed differently:\n${said(made.baseline.proposal)}\n---\n${said(made.current.proposal)}`);
    }
    const { changes } = made.current.proposal;
    if (changes.length === 0) history.push({ trial, outcome: 'agent-error', metric: null, description: '' });
    else flying.push({ trial, description: description.formatDescription(changes), changes });
    while (flying.length > inFlight) {
      const done = flying.shift();
      const candidate = rewrite(text, paramsOf(text), done.changes);
      const metric = loss(candidate);
      const kept = metric < best;
      history.push({ trial: done.trial, outcome: kept ? 'keep' : 'discard', metric, description: done.description });
      if (kept) [text, best] = [candidate, metric];
    }
    if (trial % every === 0 || trial === trials) {
      const window = { trials: `${windows.length * every + 1}–${trial}`, baselineMs: round(median(times.baseline), 3), currentMs: round(median(times.current), 3) };
      windows.push(window);
      console.error(`${window.trials}: ${window.baselineMs} / ${window.currentMs} ms`);
      times = { baseline: [], current: [] };
    }
  }
  return windows;
}

function parseArgs(argv) {
  const result = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!['trials', 'every', 'in-flight', 'baseline-ref'].includes(name) || argv[i + 1] === undefined) {
      process.stderr.write(`usage: node bench/tuner-turn.mjs [--trials 8000] [--every 1000] [--in-flight 0] [--baseline-ref <commit>]\n`);
      process.exit(2);
    }
    result[name] = argv[++i];
  }
  return result;
}
