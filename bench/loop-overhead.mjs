/**
 * `npm run bench`: what crucible itself costs per trial, outside the agent and the experiment.
 *
 *   node bench/loop-overhead.mjs [--trials 1000] [--git-trials 40] [--keep]
 *
 * 1. Runs the offline tuner for --trials trials (default 1,000) on a project whose experiment
 *    takes a few ms, in process, through the built library (dist/). Overhead per trial =
 *    totalMs - agentMs - runMs from each TrialSummary. Reports the first 100, all, the last 100,
 *    and the growth ratio mean(last 100) / mean(first 100) as history grows.
 * 2. Times `crucible status` (the built CLI, spawned) on that project, median of 10, next to a
 *    bare `node -e ""` measured in the same process, so the figure reads as a ratio.
 * 3. Counts git processes per trial in a short separate run with a counting `git` on PATH.
 *
 * Prints a table and writes bench/results/latest.json. Never run as a timed test.
 */
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { installGitShim } from './lib/git-shim.mjs';
import { describeMachine, loadAverage } from './lib/machine.mjs';
import { countOutcomes, renderOverhead, renderSpawns, renderStatus, tally } from './lib/render.mjs';
import { mean, median, round, summarize } from './lib/stats.mjs';
import { timeCommand } from './lib/timing.mjs';
import { runTunerTrials } from './lib/tuner-trials.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const cliMain = path.join(repoRoot, 'dist', 'cli', 'main.js');
const options = parseOptions(process.argv.slice(2));

if (!existsSync(cliMain)) {
  process.stderr.write('dist/ is missing: run `npm run bench` (it builds first) or `npm run build`.\n');
  process.exit(1);
}
const { startRun } = await import(pathToFileURL(path.join(repoRoot, 'dist', 'loop', 'start-run.js')).href);

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-')));
const baseEnv = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(tmp, 'worktrees') };
const stop = new AbortController();
process.on('SIGINT', () => stop.abort()); // finish the trial in progress, report what was measured, clean up

try {
  await main();
} finally {
  if (options.keep) process.stderr.write(`kept ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  const machine = describeMachine();
  const loadBefore = loadAverage();
  log(`crucible loop overhead: ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.git}`);

  log(`\n[1/3] ${options.trials} trials of the tuner on a trivial experiment ...`);
  const project = createBenchProject(path.join(tmp, 'overhead'));
  const timed = await runTunerTrials(startRun, { projectDir: project, tag: 'overhead', count: options.trials, env: baseEnv, stopSignal: stop.signal });
  const overhead = analyseOverhead(timed.trials);
  log(renderOverhead(overhead, timed));

  log('\n[2/3] crucible status on that project, against a bare Node start ...');
  const status = timeStatus(project);
  log(renderStatus(status, overhead.total.n));

  log(`\n[3/3] git processes per trial (${options.gitTrials} trials, counting git on PATH) ...`);
  const spawns = await countGitSpawns();
  log(renderSpawns(spawns));

  const results = {
    date: new Date().toISOString(),
    machine,
    // Other processes on the machine skew every figure; the load average says how much there was.
    load_average_1_5_15: { before: loadBefore, after: loadAverage() },
    experiment: { run: 'true', eval: 'awk -f score.awk params.txt', agent: 'tuner' },
    trials: overhead.total.n,
    outcomes: countOutcomes(timed.trials),
    overhead_ms: {
      first_100: overhead.first,
      all: overhead.total,
      last_100: overhead.last,
      growth_last_100_over_first_100: overhead.growth,
      growth_median_last_100_over_first_100: overhead.growthMedian,
      keep: overhead.keep,
      discard: overhead.discard,
      mean_per_block_of_100: overhead.byHundred,
    },
    agent_ms: summarize(timed.trials.map((t) => t.agentMs)),
    experiment_ms: summarize(timed.trials.map((t) => t.runMs)),
    wall_per_trial_ms: summarize(timed.trials.map((t) => t.wallMs)),
    run_wall_s: round(timed.wallMs / 1000, 1),
    status: { ...status, trials: overhead.total.n },
    git_spawns: spawns,
  };
  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  writeFileSync(path.join(benchDir, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwrote ${path.relative(process.cwd(), path.join(benchDir, 'results', 'latest.json'))}`);
}

function analyseOverhead(trials) {
  const overheadOf = (list) => list.map((t) => t.overheadMs);
  const first = trials.slice(0, 100);
  const last = trials.slice(-100);
  return {
    first: summarize(overheadOf(first)),
    total: summarize(overheadOf(trials)),
    last: summarize(overheadOf(last)),
    growth: round(mean(overheadOf(last)) / mean(overheadOf(first)), 3),
    // The median ratio shrugs off a burst of load from other processes on a shared machine.
    growthMedian: round(median(overheadOf(last)) / median(overheadOf(first)), 3),
    keep: summarize(overheadOf(trials.filter((t) => t.outcome === 'keep'))),
    // Mean of each block of 100 trials: the shape of any growth, not just its two ends.
    byHundred: Array.from({ length: Math.ceil(trials.length / 100) }, (_, i) => round(mean(overheadOf(trials.slice(i * 100, i * 100 + 100))))),
    discard: summarize(overheadOf(trials.filter((t) => t.outcome === 'discard'))),
  };
}

function timeStatus(projectDir) {
  const env = baseEnv;
  // Interleaved warm-up, then the two medians one after the other on the same warm caches.
  timeCommand(process.execPath, ['-e', ''], { cwd: projectDir, env, runs: 2 });
  timeCommand(process.execPath, [cliMain, 'status'], { cwd: projectDir, env, runs: 2 });
  const node = timeCommand(process.execPath, ['-e', ''], { cwd: projectDir, env, runs: 10 });
  const status = timeCommand(process.execPath, [cliMain, 'status'], { cwd: projectDir, env, runs: 10 });
  const statusJson = timeCommand(process.execPath, [cliMain, 'status', '--json'], { cwd: projectDir, env, runs: 10 });
  return { status_ms: status, status_json_ms: statusJson, bare_node_ms: node, ratio: round(status.median / node.median, 2) };
}

async function countGitSpawns() {
  const project = createBenchProject(path.join(tmp, 'git-count'));
  const shim = installGitShim(path.join(tmp, 'git-shim'));
  const perTrial = [];
  let before = 0;
  await startRun({
    projectDir: project,
    tag: 'count',
    agentType: 'tuner',
    maxIterations: options.gitTrials,
    env: { ...baseEnv, ...shim.env },
    stopSignal: stop.signal,
    reporter: {
      trialStart() {
        before = shim.calls().length;
      },
      trialEnd(summary) {
        const calls = shim.calls().slice(before);
        if (summary.outcome !== 'baseline') perTrial.push({ outcome: summary.outcome, calls });
      },
    },
  });
  const all = shim.calls();
  if (all.length === 0) throw new Error('the counting git shim saw no call: crucible did not use git from PATH');
  const byOutcome = {};
  for (const outcome of new Set(perTrial.map((t) => t.outcome))) {
    const trials = perTrial.filter((t) => t.outcome === outcome);
    const counts = trials.map((t) => t.calls.length);
    byOutcome[outcome] = { trials: trials.length, mean: round(mean(counts), 1), min: Math.min(...counts), max: Math.max(...counts), commands: tally(trials.at(-1).calls) };
  }
  const inTrials = perTrial.reduce((sum, t) => sum + t.calls.length, 0);
  return { trials: perTrial.length, total: all.length, outside_trials: all.length - inTrials, per_outcome: byOutcome };
}

function parseOptions(argv) {
  const result = { trials: 1000, gitTrials: 40, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') result.keep = true;
    else if (arg === '--trials' || arg === '--git-trials') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) usage(`${arg} needs a whole number of 1 or more`);
      result[arg === '--trials' ? 'trials' : 'gitTrials'] = n;
    } else usage(`unknown option ${arg}`);
  }
  return result;
}

function usage(message) {
  process.stderr.write(`${message}\nusage: node bench/loop-overhead.mjs [--trials 1000] [--git-trials 40] [--keep]\n`);
  process.exit(2);
}

function log(text) {
  process.stdout.write(`${text}\n`);
}
