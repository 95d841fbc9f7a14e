/**
 * `npm run bench`: what crucible itself costs per trial, outside the agent and the experiment
 * (issue 12). One run prints it all:
 *
 *   node bench/loop-overhead.mjs [--trials 1000] [--long] [--compare 300] [--baseline-ref <commit>]
 *                                [--no-baseline] [--git-trials 40] [--model-trials 20] [--settle-max-s 90] [--keep]
 *
 * 1. Overhead per trial (totalMs − agentMs − runMs of each TrialSummary) on a project whose
 *    experiment takes a few ms, for the tuner (in process) and for a `command` agent (a line of sh
 *    editing one line, the serial loop): first and last 100 of --trials (1,000; 10,000 with
 *    --long), growth. The first --compare trials run in blocks of 50 alternating with the same
 *    trials through a baseline build (--baseline-ref, default the commit before issue 12's work,
 *    built into a temp folder), so load from other processes falls on both alike: the ratio.
 *    Each compared block first waits for creating a file to cost about its best again
 *    (lib/floors.mjs's createQuietGate, at most --settle-max-s; decisions 82).
 * 2. Git processes per trial, by outcome, both paths, both builds (a counting `git` on PATH).
 * 3. `crucible status` on the 1,000-trial project; start-up of the read commands against
 *    `node -e 0` (bench/lib/startup.mjs, issue 12 item 2, when present).
 * 4. The `api` and `claude-code` backends against the tests' fake model servers, which answer at
 *    once: the time per trial that is crucible's (and Claude Code's start).
 *    The reference's floor (bench/lib/reference-floor.mjs: its git processes and shells alone,
 *    from Python) runs in the same blocks: crucible's wall less the commands alone over the
 *    floor's is an upper bound on its ratio to the reference (the target: 0.5).
 * 5. Floors measured in the same run: a bare Node start, one git process, one fdatasync, and the
 *    experiment's and the command agent's commands alone; wall per trial less those is the
 *    issue's measure of orchestration (spawns, the sandbox and crucible's accounting all in it).
 *
 * Writes bench/results/latest.json with the machine. Never run as a timed test.
 */
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { createQuietGate, measureFloors } from './lib/floors.mjs';
import { loadFakeServers, runModelTrials } from './lib/llm-trials.mjs';
import { describeMachine, loadAverage } from './lib/machine.mjs';
import { analyseOverhead, buildRef, countGitSpawns } from './lib/overhead.mjs';
import { orchestrationMs, renderComparison, renderFloors, renderModels, renderReferenceFloor } from './lib/overhead-render.mjs';
import { hasPython } from './lib/bare-loop.mjs';
import { referenceFloorFigures, runReferenceTrials } from './lib/reference-floor.mjs';
import { countOutcomes, renderOverhead, renderSpawns, renderStatus } from './lib/render.mjs';
import { mean, median, round, summarize } from './lib/stats.mjs';
import { timeCommand } from './lib/timing.mjs';
import { runTunerTrials } from './lib/tuner-trials.mjs';

// main before issue 12's per-trial work (the run-branch watch had landed): the baseline build.
const DEFAULT_BASELINE = '9e795975bbef0e8826b8e0bdb72bfe275216c8f6';
const BLOCK = 50;

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const cliMain = path.join(repoRoot, 'dist', 'cli', 'main.js');
const options = parseOptions(process.argv.slice(2));

if (!existsSync(cliMain)) {
  process.stderr.write('dist/ is missing: run `npm run bench` (it builds first) or `npm run build`.\n');
  process.exit(1);
}
const current = { name: 'this build', dist: path.join(repoRoot, 'dist'), cli: cliMain, ...(await import(pathToFileURL(path.join(repoRoot, 'dist', 'index.js')).href)) };

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-')));
const baseEnv = { ...process.env, ...benchGitEnv, NO_COLOR: '1' };
const envIn = (name) => ({ ...baseEnv, CRUCIBLE_WORKTREE_DIR: path.join(tmp, `worktrees-${name}`) });
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
  let baseline = null;
  if (options.baseline) {
    log(`\nbuilding the baseline ${options.baselineRef.slice(0, 12)} into a temp folder ...`);
    const dist = buildRef(repoRoot, options.baselineRef, path.join(tmp, 'baseline'));
    baseline = { name: `baseline ${options.baselineRef.slice(0, 7)}`, dist, cli: path.join(dist, 'cli', 'main.js'), ...(await import(pathToFileURL(path.join(dist, 'index.js')).href)) };
  }
  const floors = await measureFloors(createBenchProject(path.join(tmp, 'floors')), baseEnv);

  const paths = {};
  for (const agent of ['tuner', 'command']) {
    log(`\n[1/5] ${agent}: ${options.trials} trials${baseline ? `, the first ${options.compare} alternating with the baseline in blocks of ${BLOCK}` : ''} ...`);
    paths[agent] = await timePath(agent, baseline);
    paths[agent].orchestrationMs = orchestrationMs(floors, agent, paths[agent].timed.trials);
    // Against crucible's trials of the same blocks (the first of the run).
    const referenceTrials = paths[agent].referenceTrials;
    paths[agent].referenceFloor = referenceTrials.length === 0 ? null : referenceFloorFigures(floors, agent, referenceTrials, paths[agent].timed.trials.slice(0, referenceTrials.length));
    log(renderOverhead(paths[agent].overhead, paths[agent].timed));
    if (baseline) log(renderComparison(paths[agent].comparison));
    if (paths[agent].referenceFloor) log(renderReferenceFloor(agent, paths[agent].referenceFloor));
  }

  log(`\n[2/5] git processes per trial (${options.gitTrials} trials, counting git on PATH) ...`);
  const spawns = {};
  for (const build of [current, baseline].filter(Boolean)) {
    for (const agent of ['tuner', 'command']) {
      const key = `${agent}${build === current ? '' : ' (baseline)'}`;
      const projectDir = createBenchProject(path.join(tmp, `count-${agent}-${build === current ? 'this' : 'base'}`), { agent });
      spawns[key] = await countGitSpawns(build.startRun, { projectDir, shimDir: path.join(tmp, `shim-${key.replace(/\W+/g, '-')}`), trials: options.gitTrials, env: envIn(`count-${agent}`), stopSignal: stop.signal, agentType: agent === 'tuner' ? 'tuner' : null });
      log(`${key}:\n${renderSpawns(spawns[key])}`);
    }
  }

  log('\n[3/5] crucible status on the tuner project, and start-up against a bare Node start ...');
  const status = timeStatus(paths.tuner.projectDir);
  log(renderStatus(status, paths.tuner.overhead.total.n));
  const startup = await measureStartupIfThere(baseline);

  log(`\n[4/5] api and claude-code against fake model servers that answer at once (${options.modelTrials} trials each) ...`);
  const models = {};
  const fakes = await loadFakeServers(repoRoot, tmp);
  for (const backend of ['api', 'claude-code']) {
    const count = backend === 'api' ? options.modelTrials : Math.max(2, Math.round(options.modelTrials / 2));
    const timed = await runModelTrials(current.startRun, fakes, { backend, dir: path.join(tmp, `model-${backend}`), count, env: envIn(backend), stopSignal: stop.signal });
    models[backend] = modelFigures(timed);
  }
  log(renderModels(models));

  log('\n[5/5] floors, measured in this run');
  log(renderFloors(floors, paths));

  const results = {
    date: new Date().toISOString(),
    machine,
    // Other processes on the machine skew every figure; the load average says how much there was.
    load_average_1_5_15: { before: loadBefore, after: loadAverage() },
    experiment: { run: 'true', eval: 'awk -f score.awk params.txt', sandbox: 'auto (the default)' },
    baseline: baseline ? { ref: options.baselineRef } : null,
    floors,
    overhead: Object.fromEntries(Object.entries(paths).map(([agent, p]) => [agent, pathFigures(p)])),
    git_spawns: spawns,
    status: { ...status, trials: paths.tuner.overhead.total.n },
    startup,
    model_backends: models,
  };
  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  const file = path.join(benchDir, 'results', options.long ? 'latest-long.json' : 'latest.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

/** One path (tuner or command): this build's trials, the first `compare` of them interleaved with the baseline's. */
/**
 * One gate for the whole bench: the best create it found holds for every path (floors.mjs). A
 * function declaration, so that main, which runs before the module's later bindings exist, has it.
 */
function settle() {
  settle.gate ??= createQuietGate(tmp, { maxWaitS: options.settleMaxS });
  return settle.gate();
}

async function timePath(agent, baseline) {
  const builds = [current, baseline].filter(Boolean).map((build) => ({
    build,
    projectDir: createBenchProject(path.join(tmp, `${agent}-${build === current ? 'this' : 'base'}`), { agent }),
    trials: [],
    wallMs: 0,
    reason: null,
  }));
  // The reference's floor (lib/reference-floor.mjs) in the same blocks as the comparison.
  const reference = hasPython(baseEnv) ? { dir: createBenchProject(path.join(tmp, `${agent}-reference`), { agent }), trials: [] } : null;
  let block = 0;
  const settled = [];
  while (builds[0].trials.length < options.trials && !stop.signal.aborted) {
    const order = block % 2 === 0 ? builds : [...builds].reverse();
    // The compared blocks wait for the file system to settle (floors.mjs); the long tail does not.
    if (block * BLOCK < options.compare) settled.push(await settle());
    const referenceCount = reference ? Math.min(BLOCK, Math.min(options.compare, options.trials) - reference.trials.length) : 0;
    if (referenceCount > 0) {
      reference.trials.push(...runReferenceTrials({ dir: reference.dir, env: baseEnv, agent, first: reference.trials.length + 1, count: referenceCount, stateFile: path.join(tmp, `${agent}-reference.json`) }));
    }
    for (const b of order) {
      const limit = b.build === current ? options.trials : Math.min(options.compare, options.trials);
      const count = Math.min(BLOCK, limit - b.trials.length);
      if (count <= 0) continue;
      const timed = await runTunerTrials(b.build.startRun, { projectDir: b.projectDir, tag: 'overhead', count, env: envIn(`${agent}-${b.build === current ? 'this' : 'base'}`), stopSignal: stop.signal, agentType: agent === 'tuner' ? 'tuner' : null });
      b.trials.push(...timed.trials.map((t) => ({ ...t, trial: b.trials.length + 1, block })));
      b.wallMs += timed.wallMs;
      b.reason = timed.reason;
    }
    block++;
  }
  const [ours, theirs] = builds;
  const timed = { trials: ours.trials, wallMs: ours.wallMs, reason: ours.reason };
  const comparison = theirs ? compare(ours, theirs) : null;
  if (settled.length > 0) {
    log(`  one file created before each compared block: ${settled.map((g) => g.create_ms).join(', ')} ms, after waiting ${settled.map((g) => g.waited_s).join(', ')} s for it to settle`);
  }
  return { projectDir: ours.projectDir, timed, overhead: analyseOverhead(ours.trials), comparison, referenceTrials: reference?.trials ?? [], settled };
}

function compare(ours, theirs) {
  const n = theirs.trials.length;
  const side = (b) => ({
    name: b.build.name,
    trials: n,
    overhead_median_ms: round(median(b.trials.slice(0, n).map((t) => t.overheadMs))),
    overhead_mean_ms: summarize(b.trials.slice(0, n).map((t) => t.overheadMs)).mean,
    wall_median_ms: round(median(b.trials.slice(0, n).map((t) => t.wallMs))),
    // Means: the children's CPU comes in 10 ms ticks.
    own_cpu_mean_ms: round(mean(b.trials.slice(0, n).map((t) => t.ownCpuMs))),
    children_cpu_mean_ms: b.trials[0]?.childCpuMs === null ? null : round(mean(b.trials.slice(0, n).map((t) => t.childCpuMs))),
  });
  const a = side(ours);
  const b = side(theirs);
  return {
    this_build: a,
    baseline: b,
    ratio_overhead_median: round(a.overhead_median_ms / b.overhead_median_ms, 3),
    ratio_wall_median: round(a.wall_median_ms / b.wall_median_ms, 3),
    wall_by_block_pair: blockPairRatios(ours.trials.slice(0, n), theirs.trials),
    wall_same_build_split: sameBuildSplit(theirs.trials),
    ratio_own_cpu: round(a.own_cpu_mean_ms / b.own_cpu_mean_ms, 3),
    ratio_children_cpu: a.children_cpu_mean_ms === null ? null : round(a.children_cpu_mean_ms / b.children_cpu_mean_ms, 3),
  };
}

/** Median wall per trial of each block, by block number. */
function blockMedians(trials) {
  const byBlock = new Map();
  for (const t of trials) byBlock.set(t.block, [...(byBlock.get(t.block) ?? []), t.wallMs]);
  return new Map([...byBlock].map(([block, walls]) => [block, median(walls)]));
}

/**
 * The ratio of each pair of blocks run back to back (one of each build): how far one pair can
 * stray from the whole comparison's ratio on this machine.
 */
function blockPairRatios(ours, theirs) {
  const [a, b] = [blockMedians(ours), blockMedians(theirs)];
  const ratios = [...a].filter(([block]) => b.has(block)).map(([block, wall]) => wall / b.get(block));
  return ratios.length === 0 ? null : { pairs: ratios.length, median: round(median(ratios), 3), min: round(Math.min(...ratios), 3), max: round(Math.max(...ratios), 3) };
}

/**
 * An A/A run: the baseline's own blocks split in turn (the 1st and 2nd, 5th and 6th, ... against
 * the 3rd and 4th, 7th and 8th, ...: each half ran first and second in its pair equally often),
 * compared as the two builds are. A ratio between builds no further from 1 is noise.
 */
function sameBuildSplit(trials) {
  const walls = (parity) => trials.filter((t) => t.block % 4 === parity || t.block % 4 === parity + 1).map((t) => t.wallMs);
  const [first, second] = [walls(0), walls(2)];
  return first.length === 0 || second.length === 0 ? null : round(median(first) / median(second), 3);
}

function pathFigures(p) {
  const o = p.overhead;
  const t = p.timed.trials;
  return {
    trials: o.total.n,
    outcomes: countOutcomes(t),
    overhead_ms: { first_100: o.first, all: o.total, last_100: o.last, growth_last_100_over_first_100: o.growth, growth_median: o.growthMedian, by_outcome: o.by_outcome, mean_per_block_of_100: o.byHundred },
    agent_ms: summarize(t.map((x) => x.agentMs)),
    experiment_ms: summarize(t.map((x) => x.runMs)),
    wall_per_trial_ms: summarize(t.map((x) => x.wallMs)),
    // The issue's measure: wall per trial less the commands alone (floors), sandbox and spawns included.
    wall_less_commands_alone_ms: p.orchestrationMs === null ? null : round(p.orchestrationMs),
    // The file system's state before each compared block, and how long the bench waited for it (floors.mjs).
    file_create_ms_per_compared_block: p.settled.map((g) => g.create_ms),
    settle_waited_s_per_compared_block: p.settled.map((g) => g.waited_s),
    // The issue's target, read on this machine: the reference's floor in the same blocks.
    reference_floor: p.referenceFloor,
    run_wall_s: round(p.timed.wallMs / 1000, 1),
    against_baseline: p.comparison,
  };
}

function modelFigures(timed) {
  const t = timed.trials;
  return {
    trials: t.length,
    outcomes: countOutcomes(t),
    model_requests: timed.requests,
    agent_ms: summarize(t.map((x) => x.agentMs)),
    overhead_ms: summarize(t.map((x) => x.overheadMs)),
    crucible_ms: summarize(t.map((x) => x.totalMs - x.runMs)),
    experiment_ms: summarize(t.map((x) => x.runMs)),
  };
}

function timeStatus(projectDir) {
  const env = envIn('status');
  // Started as the installed command is: the file executed, which the build marks executable
  // (its first lines hold NODE_EXTRA_CA_CERTS back from a read command's start; decisions 69).
  // Interleaved warm-up, then the two medians one after the other on the same warm caches.
  timeCommand(process.execPath, ['-e', ''], { cwd: projectDir, env, runs: 2 });
  timeCommand(cliMain, ['status'], { cwd: projectDir, env, runs: 2 });
  const node = timeCommand(process.execPath, ['-e', ''], { cwd: projectDir, env, runs: 10 });
  const status = timeCommand(cliMain, ['status'], { cwd: projectDir, env, runs: 10 });
  const statusJson = timeCommand(cliMain, ['status', '--json'], { cwd: projectDir, env, runs: 10 });
  return { status_ms: status, status_json_ms: statusJson, bare_node_ms: node, ratio: round(status.median / node.median, 2) };
}

/** Issue 12 item 2's figures, from bench/lib/startup.mjs (another part of the issue); null without it. */
async function measureStartupIfThere(baseline) {
  const lib = path.join(benchDir, 'lib', 'startup.mjs');
  if (!existsSync(lib)) {
    log('start-up: bench/lib/startup.mjs is not in this checkout yet; skipped');
    return null;
  }
  const { measureStartup, renderStartup } = await import(pathToFileURL(lib).href);
  const builds = baseline ? { before: baseline.cli, after: current.cli } : { current: current.cli };
  const measure = (b) => measureStartup({ builds: b, dir: path.join(tmp, 'startup'), env: envIn('startup'), log: (line) => process.stderr.write(`  ${line}\n`) });
  let result;
  try {
    result = await measure(builds);
  } catch (error) {
    // An older baseline may lack what the start-up bench drives (`run --json`): this build's
    // figures alone, rather than losing the whole run's results.
    if (!baseline) throw error;
    log(`start-up: the baseline cannot be driven (${String(error.message).split('\n')[0]}); this build alone`);
    result = await measure({ current: current.cli });
  }
  log(renderStartup(result));
  return result;
}

function parseOptions(argv) {
  const result = { trials: 1000, long: false, compare: 300, baseline: true, baselineRef: DEFAULT_BASELINE, gitTrials: 40, modelTrials: 20, keep: false, settleMaxS: 90 };
  const numbers = { '--trials': 'trials', '--compare': 'compare', '--git-trials': 'gitTrials', '--model-trials': 'modelTrials', '--settle-max-s': 'settleMaxS' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') result.keep = true;
    else if (arg === '--long') result.long = true;
    else if (arg === '--no-baseline') result.baseline = false;
    else if (arg === '--baseline-ref') result.baselineRef = argv[++i] ?? usage('--baseline-ref needs a commit');
    else if (arg in numbers) {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < (arg === '--settle-max-s' ? 0 : 1)) usage(`${arg} needs a whole number of ${arg === '--settle-max-s' ? 0 : 1} or more`);
      result[numbers[arg]] = n;
    } else usage(`unknown option ${arg}`);
  }
  if (result.long && !argv.includes('--trials')) result.trials = 10_000;
  return result;
}

function usage(message) {
  process.stderr.write(`${message}\nusage: node bench/loop-overhead.mjs [--trials 1000] [--long] [--compare 300] [--baseline-ref <commit>] [--no-baseline] [--git-trials 40] [--model-trials 20] [--settle-max-s 90] [--keep]\n`);
  process.exit(2);
}

function log(text) {
  process.stdout.write(`${text}\n`);
}
