/**
 * `npm run bench` (after loop-overhead): parallel trials and pipelining, with real parts: a git
 * project, a `command` agent (a line of sh that sleeps --agent-seconds, then edits one file of
 * its own) and an experiment that sleeps --experiment-seconds (so two cores run eight slots).
 *
 *   node bench/parallel.mjs [--quick] [--rounds 10] [--experiment-seconds 2] [--agent-seconds 0.5]
 *                           [--baseline-dist ../old/dist] [--overhead-trials 300] [--keep]
 *
 * (a) Slot busy fraction at N = 1 with agents = 1 and agents = 2, from the ledger:
 *     Σ (run.done − run.start) / (slots × window), window = first non-baseline trial.start to the
 *     last trial.end, and in steady state (each slot's first run.start to its last run.done);
 *     beside them the serial figure E / (E + A + overhead).
 * (b) Trials per hour for N = 1, 2, 4, 8 (default agents: N + 1, more while slots wait for
 *     proposals, up to 2N; rounds·N trials each) as ratios to
 *     N = 1: over the whole window, and in steady state (each slot's rate between its first and
 *     last experiment start, summed). The target (≥ 0.9·N) is read on the steady state; the
 *     largest N runs once more with 2·N agents, to tell waiting for agents from waiting for crucible.
 * (c) crucible's own time per trial at each N, from the ledger and the marks the agent and the
 *     experiment print (bench/lib/ledger-timeline.mjs): a slot's idle gap between two
 *     experiments and its parts, CPU per trial, how busy the scheduler is.
 * (d) With --baseline-dist: loop-overhead's part 1 (the tuner on a trivial experiment) with this
 *     build and the given older one, interleaved in blocks, medians side by side, and each step
 *     of a trial (from the two ledgers) to show where a difference lies.
 * --quick: 4 rounds, no 2·N-agents run, 100 tuner trials per build.
 *
 * Prints tables and writes bench/results/parallel.json. Never run as a timed test.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { busyFraction, foldTrials, keepRuleCounts, overheadOf, readLedger, readRunMarks, schedulerBusy, stepMedians, trialsPerHour, windowOf } from './lib/ledger-timeline.mjs';
import { childrenCpuMs, cpuPressure, describeMachine, loadAverage } from './lib/machine.mjs';
import { createParallelProject } from './lib/parallel-project.mjs';
import { renderBusy, renderBuilds, renderOverheadByN, renderThroughput } from './lib/parallel-render.mjs';
import { median, round } from './lib/stats.mjs';
import { runTunerTrials } from './lib/tuner-trials.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const options = parseOptions(process.argv.slice(2));
const distDir = path.join(repoRoot, 'dist');
if (!existsSync(path.join(distDir, 'loop', 'start-run.js'))) {
  process.stderr.write('dist/ is missing: run `npm run bench` (it builds first) or `npm run build`.\n');
  process.exit(1);
}
const { startRun } = await importStartRun(distDir);

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-parallel-')));
const baseEnv = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(tmp, 'worktrees') };
const stop = new AbortController();
process.on('SIGINT', () => stop.abort()); // what is in flight finishes; what was measured is reported

try {
  await main();
} finally {
  if (options.keep) process.stderr.write(`kept ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  const machine = describeMachine();
  const loadBefore = loadAverage();
  const pressureBefore = cpuPressure();
  const { experimentSeconds: E, agentSeconds: A, rounds } = options;
  const pressure = pressureBefore ? `, CPU pressure ${pressureBefore.some_avg60}% (60 s)` : '';
  log(`crucible parallel trials: ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.cpuModel}), load ${loadBefore.join(' ')}${pressure}`);
  log(`experiment: sleep ${E} s; agent: command, sleep ${A} s, one file per trial; ${rounds} rounds (rounds·N trials at N slots)`);

  log(`\n[1/4] slot busy fraction at N = 1 (${rounds} trials each) ...`);
  const serial = await measureRun({ workers: 1, agents: 1, trials: rounds });
  const pipelined = await measureRun({ workers: 1, agents: 2, trials: rounds });
  // The serial loop's cycle is E + A + crucible's own time: the busy fraction it can reach.
  const serialOverheadMs = serial.window_ms / serial.counts.measured - (E + A) * 1000;
  const busy = {
    serial_theory: round(E / (E + A + serialOverheadMs / 1000), 3),
    // cycle − E − A: crucible's own time per trial and the eval command's.
    serial_overhead_ms: round(serialOverheadMs, 1),
    design_serial: round(E / (E + A), 3),
    agents_1: serial.busy,
    agents_2: pipelined.busy,
  };
  log(renderBusy(busy, serial, pipelined));

  log(`\n[2/4] trials per hour at N = ${options.slots.join(', ')} (default agents) ...`);
  const byN = [pipelined];
  for (const workers of options.slots.filter((n) => n !== 1)) byN.push(await measureRun({ workers, agents: 'auto', trials: rounds * workers }));
  const one = byN[0].trials_per_hour;
  // The default may leave slots waiting for proposals: with many slots, is it the agents that
  // keep them waiting, or crucible? The largest N once more with twice as many agents says which.
  const largest = Math.max(...options.slots);
  const moreAgents = options.quick ? null : await measureRun({ workers: largest, agents: 2 * largest, trials: rounds * largest });
  for (const run of [...byN, ...(moreAgents ? [moreAgents] : [])]) {
    run.ratio_to_n1 = { window: round(run.trials_per_hour.window / one.window, 2), steady: round(run.trials_per_hour.steady / one.steady, 2) };
  }
  log(renderThroughput(byN, moreAgents));

  log('\n[3/4] crucible\'s own time per trial, by N (ms, means) ...');
  const all = [serial, ...byN, ...(moreAgents ? [moreAgents] : [])];
  log(renderOverheadByN(all));

  let builds = null;
  if (options.baselineDist) {
    log(`\n[4/4] tuner overhead, this build against ${options.baselineDist} (${options.overheadTrials} trials each, interleaved) ...`);
    builds = await compareBuilds(options.baselineDist, options.overheadTrials);
    log(renderBuilds(builds));
  } else {
    log('\n[4/4] skipped: give --baseline-dist <an older build\'s dist/> to compare the tuner\'s overhead with it');
  }

  const results = {
    date: new Date().toISOString(),
    machine,
    load_average_1_5_15: { before: loadBefore, after: loadAverage() },
    cpu_pressure_percent: { before: pressureBefore, after: cpuPressure() },
    setup: { experiment: `sleep ${E}`, agent: `command: sleep ${A}, then one cell file of its own`, rounds, quick: options.quick },
    busy_fraction_n1: busy,
    throughput: [...byN, ...(moreAgents ? [moreAgents] : [])].map((r) => ({
      workers: r.workers,
      agents: r.agents,
      trials_per_hour: r.trials_per_hour,
      ratio_to_n1: r.ratio_to_n1,
      target_ratio: round(0.9 * r.workers, 2),
    })),
    overhead_ms_by_n: all.map((r) => ({
      workers: r.workers,
      agents: r.agents,
      ...r.overhead_ms,
      crucible_cpu_ms_per_trial: r.cpu_ms_per_trial,
      all_processes_cpu_ms_per_trial: r.cpu_ms_per_trial_with_children,
      scheduler_busy: r.scheduler_busy,
    })),
    // crucible runs that failed (and were run again in a fresh project): each one a bug to look at.
    failed_runs: all.flatMap((r) => r.failed_runs.map((error) => ({ workers: r.workers, agents: r.agents, error }))),
    runs: all,
    builds,
  };
  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  writeFileSync(path.join(benchDir, 'results', 'parallel.json'), `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwrote ${path.relative(process.cwd(), path.join(benchDir, 'results', 'parallel.json'))}`);
}

/**
 * One run of `trials` proposals with `workers` slots and `agents` in flight, read back from its
 * ledger. A run that fails is a finding, not a figure: it is recorded, and tried twice more in a
 * fresh project before the bench gives up.
 */
async function measureRun(setup) {
  const failures = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...(await measureOnce(setup, `n${setup.workers}-a${setup.agents}-${attempt}`)), failed_runs: failures };
    } catch (error) {
      const line = String(error instanceof Error ? error.message : error).split('\n')[0];
      failures.push(line);
      log(`  N=${setup.workers} agents=${setup.agents}: the run failed (${line})${attempt < 3 ? '; again in a fresh project' : ''}`);
      if (attempt === 3 || stop.signal.aborted) throw error;
    }
  }
}

async function measureOnce({ workers, agents, trials }, folder) {
  const dir = createParallelProject(path.join(tmp, folder), { experimentSeconds: options.experimentSeconds, agentSeconds: options.agentSeconds, agents });
  const notices = [];
  const load = loadAverage();
  const cpu = process.cpuUsage();
  const childrenBefore = childrenCpuMs();
  const began = performance.now();
  const report = await startRun({
    projectDir: dir,
    tag: 'bench',
    maxIterations: trials,
    workers,
    env: baseEnv,
    stopSignal: stop.signal,
    reporter: { warning: (text) => notices.push(text), notice: (text) => notices.push(text) },
  });
  const wallMs = performance.now() - began;
  const used = process.cpuUsage(cpu);
  const childrenMs = childrenBefore === null ? null : childrenCpuMs() - childrenBefore;
  const runDir = path.join(dir, '.crucible', 'runs', 'bench');
  const runLog = (n) => path.join(runDir, 'trials', String(n), 'run.log');
  const ledger = foldTrials(readLedger(path.join(runDir, 'ledger.jsonl')), (n) => (existsSync(runLog(n)) ? readRunMarks(readFileSync(runLog(n), 'utf8')) : {}));
  const counts = keepRuleCounts(ledger);
  const run = {
    workers,
    agents,
    stopped_by: report.reason.kind,
    counts,
    window_ms: windowOf(ledger).ms,
    session_wall_ms: round(wallMs, 0),
    busy: busyFraction(ledger, workers),
    trials_per_hour: trialsPerHour(ledger),
    overhead_ms: overheadOf(ledger),
    // The crucible process's own CPU during the run (its children, git and the agents, not included).
    cpu_ms_per_trial: round((used.user + used.system) / 1000 / counts.trials, 1),
    // Everything it started as well (git, the sandbox, the agents, the experiments), from /proc.
    cpu_ms_per_trial_with_children: childrenMs === null ? null : round((used.user + used.system) / 1000 / counts.trials + childrenMs / counts.trials, 1),
    scheduler_busy: schedulerBusy(ledger),
    load_average_before: load,
    cpu_pressure_after: cpuPressure(),
    notices,
  };
  process.stderr.write(`  N=${workers} agents=${agents}: ${counts.trials} trials in ${(run.window_ms / 1000).toFixed(1)} s\n`);
  return run;
}

/**
 * loop-overhead's part 1 through two builds: the same bench project, one per build, resumed block
 * after block in alternating order, so that a change in the machine's load hits both alike.
 */
async function compareBuilds(baselineDist, trials) {
  const builds = [
    { name: 'this build', dist: distDir, startRun },
    { name: 'baseline', dist: path.resolve(baselineDist), startRun: (await importStartRun(path.resolve(baselineDist))).startRun },
  ];
  const blocks = Math.max(2, Math.round(trials / 50));
  for (const build of builds) {
    build.project = createBenchProject(path.join(tmp, `overhead-${build === builds[0] ? 'this' : 'baseline'}`));
    build.trials = [];
    build.wallMs = 0;
  }
  for (let block = 0; block < blocks; block++) {
    const count = Math.round(((block + 1) * trials) / blocks) - Math.round((block * trials) / blocks);
    for (const build of block % 2 === 0 ? builds : [...builds].reverse()) {
      const env = { ...baseEnv, CRUCIBLE_WORKTREE_DIR: path.join(tmp, `worktrees-${build.name.replace(' ', '-')}`) };
      const timed = await runTunerTrials(build.startRun, { projectDir: build.project, tag: 'overhead', count, env, stopSignal: stop.signal });
      build.trials.push(...timed.trials);
      build.wallMs += timed.wallMs;
    }
  }
  const figures = builds.map((b) => ({
    name: b.name,
    dist: path.relative(repoRoot, b.dist) || b.dist,
    trials: b.trials.length,
    overhead_median_ms: round(median(b.trials.map((t) => t.overheadMs))),
    wall_median_ms: round(median(b.trials.map((t) => t.wallMs))),
    session_wall_per_trial_ms: round(b.wallMs / b.trials.length),
    // Where the difference lies: each step of a trial, from its ledger.
    step_medians_ms: stepMedians(readLedger(path.join(b.project, '.crucible', 'runs', 'overhead', 'ledger.jsonl'))),
  }));
  const [current, baseline] = figures;
  return {
    blocks,
    this_build: current,
    baseline,
    ratio_this_over_baseline: {
      overhead_median: round(current.overhead_median_ms / baseline.overhead_median_ms, 3),
      wall_median: round(current.wall_median_ms / baseline.wall_median_ms, 3),
      session_wall_per_trial: round(current.session_wall_per_trial_ms / baseline.session_wall_per_trial_ms, 3),
    },
  };
}

async function importStartRun(dist) {
  const file = path.join(dist, 'loop', 'start-run.js');
  if (!existsSync(file)) usage(`${file} is missing: build that checkout first (npm run build)`);
  return import(pathToFileURL(file).href);
}

function parseOptions(argv) {
  const result = { quick: false, rounds: 10, experimentSeconds: 2, agentSeconds: 0.5, baselineDist: null, overheadTrials: 300, keep: false, slots: [1, 2, 4, 8] };
  const numbers = { '--rounds': 'rounds', '--experiment-seconds': 'experimentSeconds', '--agent-seconds': 'agentSeconds', '--overhead-trials': 'overheadTrials' };
  const given = new Set();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') result.keep = true;
    else if (arg === '--quick') result.quick = true;
    else if (arg === '--baseline-dist') {
      if (argv[i + 1] === undefined) usage('--baseline-dist needs the path of a dist/ folder');
      result.baselineDist = argv[++i];
    } else if (arg in numbers) {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0) usage(`${arg} needs a number greater than 0`);
      if ((arg === '--rounds' || arg === '--overhead-trials') && !Number.isInteger(n)) usage(`${arg} needs a whole number`);
      result[numbers[arg]] = n;
      given.add(numbers[arg]);
    } else usage(`unknown option ${arg}`);
  }
  // --quick: fewer rounds and tuner trials; N = 8 stays (it is where overhead would show).
  if (result.quick) {
    if (!given.has('rounds')) result.rounds = 4;
    if (!given.has('overheadTrials')) result.overheadTrials = 100;
  }
  return result;
}

function usage(message) {
  process.stderr.write(
    `${message}\nusage: node bench/parallel.mjs [--quick] [--rounds 10] [--experiment-seconds 2] [--agent-seconds 0.5] [--baseline-dist <dist>] [--overhead-trials 300] [--keep]\n`,
  );
  process.exit(2);
}

function log(text) {
  process.stdout.write(`${text}\n`);
}
