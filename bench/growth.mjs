/**
 * `npm run bench:growth`: does a trial cost crucible more when the run is long? (issue 12: "no
 * growth over 10,000 trials")
 *
 *   node bench/growth.mjs [--agent command|tuner] [--prefill 10000] [--trials 400] [--block 100]
 *                         [--warm-up 10] [--old <dir>] [--keep]
 *
 * The first and last 100 trials of one long run are measured tens of minutes apart, and on a
 * shared machine the load of other processes moves more between them than crucible does. Here
 * both ends are measured in the same minutes: an old project, whose run already holds --prefill
 * trials (or a copy of the project in --old, which holds a run tagged `growth`: kept from an
 * earlier --keep), and a young one started here, take turns in blocks of --block trials until each
 * has run --trials more. Each block is a session of its own in a fresh Node process, through this
 * checkout's dist/ (`startRun`), so the old run reads its whole record at open, as a resumed
 * 10,000-trial run does, and neither side's memory is in the other's process.
 *
 * A session's first trials pay for what it loads on first use, and an old run's more (its
 * records, compressed at the first append): the first --warm-up trials of each block are left out
 * of the steady figures and reported apart. Prints per side, in steady state, the overhead per
 * trial (totalMs − agentMs − runMs), the wall per trial, crucible's own CPU per trial and its
 * memory at the end of a block; the first trial of a session, and how long a session takes to
 * open (to its first trial) and to end (after its last); the ratios old / young, and the median
 * of the ratios of adjacent blocks (one old, one young, a minute apart). Writes
 * bench/results/growth-<agent>.json. Never run as a timed test.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { describeMachine, loadAverage } from './lib/machine.mjs';
import { formatTable, mean, median, round, summarize } from './lib/stats.mjs';
import { runTunerTrials } from './lib/tuner-trials.mjs';

const TAG = 'growth';
const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--session') {
  // One block, in this fresh process: its trials and this process's memory at the end, as JSON
  // in the file named (a pipe would need the process to stay until it is drained).
  const [projectDir, worktrees, count, agent, out] = process.argv.slice(3);
  const { startRun } = await import(pathToFileURL(path.join(repoRoot, 'dist', 'index.js')).href);
  const env = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: worktrees };
  const timed = await runTunerTrials(startRun, { projectDir, tag: TAG, count: Number(count), env, agentType: agent === 'tuner' ? 'tuner' : null });
  const memory = process.memoryUsage();
  writeFileSync(out, JSON.stringify({ trials: timed.trials, openMs: timed.openMs, closeMs: timed.closeMs, rssMb: memory.rss / 2 ** 20, heapMb: memory.heapUsed / 2 ** 20 }));
  process.exit(0);
}

const options = parseOptions(process.argv.slice(2));
if (!existsSync(path.join(repoRoot, 'dist', 'index.js'))) {
  process.stderr.write('dist/ is missing: run `npm run bench:growth` (it builds first) or `npm run build`.\n');
  process.exit(1);
}

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-growth-')));
let stopped = false;
process.on('SIGINT', () => {
  stopped = true;
});

try {
  main();
} finally {
  if (options.keep) process.stderr.write(`kept ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}

/** One session of `count` trials on `side`'s project, in a fresh Node process. */
function session(side, count) {
  const out = path.join(tmp, 'session.json');
  execFileSync(process.execPath, [self, '--session', side.projectDir, path.join(tmp, `worktrees-${side.name}`), String(count), options.agent, out], { stdio: ['ignore', 'inherit', 'inherit'] });
  return JSON.parse(readFileSync(out, 'utf8'));
}

function main() {
  const machine = describeMachine();
  const loadBefore = loadAverage();
  log(`crucible growth: ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.cpuModel}); ${options.agent} agent`);

  const fresh = () => ({ steady: [], first: [], openMs: [], closeMs: [], rssMb: [], heapMb: [], held: 0 });
  const old = { name: 'old', projectDir: path.join(tmp, 'old'), ...fresh() };
  if (options.old !== null) {
    // A copy: the blocks below add trials, and the project kept for later runs stays as it was.
    cpSync(options.old, old.projectDir, { recursive: true });
  } else {
    createBenchProject(old.projectDir, { agent: options.agent });
    log(`filling the old run with ${options.prefill} trials ...`);
    const began = Date.now();
    const filled = session(old, options.prefill);
    log(`  ${filled.trials.length} trials in ${round((Date.now() - began) / 1000, 1)} s`);
  }
  const young = { name: 'young', projectDir: createBenchProject(path.join(tmp, 'young'), { agent: options.agent }), ...fresh() };

  log(`\n${options.trials} trials each, old and young in turns of ${options.block}, each a session in a fresh process ...`);
  const pairs = [];
  for (let block = 0; old.steady.length + old.first.length < options.trials && !stopped; block++) {
    // Either may go first: load that drifts over the minutes falls on both alike.
    const order = block % 2 === 0 ? [old, young] : [young, old];
    const means = {};
    for (const side of order) {
      const result = session(side, options.block);
      const trials = result.trials;
      side.first.push(...trials.slice(0, options.warmUp));
      side.steady.push(...trials.slice(options.warmUp));
      side.openMs.push(result.openMs);
      side.closeMs.push(result.closeMs);
      side.rssMb.push(result.rssMb);
      side.heapMb.push(result.heapMb);
      side.held = Math.max(side.held, ...trials.map((t) => t.trial));
      means[side.name] = mean(trials.slice(options.warmUp).map((t) => t.overheadMs));
    }
    pairs.push(means.old / means.young);
    process.stderr.write(`  block ${block + 1}: old ${round(means.old)} ms, young ${round(means.young)} ms\n`);
  }

  const figures = (side) => ({
    run_holds_trials: side.held,
    steady_trials: side.steady.length,
    overhead_ms: summarize(side.steady.map((t) => t.overheadMs)),
    wall_ms: summarize(side.steady.map((t) => t.wallMs)),
    own_cpu_mean_ms: round(mean(side.steady.map((t) => t.ownCpuMs))),
    // The first trial of each session, and the warm-up's trials after it.
    first_trial_overhead_ms: summarize(side.first.filter((_, i) => i % options.warmUp === 0).map((t) => t.overheadMs)),
    warm_up_overhead_ms: summarize(side.first.filter((_, i) => i % options.warmUp !== 0).map((t) => t.overheadMs)),
    // The session's open (the call to its first trial's start) and end (its last trial's end to the return).
    open_ms: summarize(side.openMs),
    close_ms: summarize(side.closeMs),
    rss_mb_at_block_end: round(median(side.rssMb), 1),
    heap_mb_at_block_end: round(median(side.heapMb), 1),
  });
  const a = figures(old);
  const b = figures(young);
  const ratio = (x, y) => round(x / y, 3);
  const result = {
    date: new Date().toISOString(),
    machine,
    load_average_1_5_15: { before: loadBefore, after: loadAverage() },
    agent: options.agent,
    block: options.block,
    warm_up: options.warmUp,
    old: a,
    young: b,
    old_over_young: {
      overhead_median: ratio(a.overhead_ms.median, b.overhead_ms.median),
      overhead_mean: ratio(a.overhead_ms.mean, b.overhead_ms.mean),
      wall_median: ratio(a.wall_ms.median, b.wall_ms.median),
      own_cpu_mean: ratio(a.own_cpu_mean_ms, b.own_cpu_mean_ms),
      adjacent_blocks_mean_median: round(median(pairs), 3),
      first_trial_median: ratio(a.first_trial_overhead_ms.median, b.first_trial_overhead_ms.median),
      open_median: ratio(a.open_ms.median, b.open_ms.median),
      close_median: ratio(a.close_ms.median, b.close_ms.median),
    },
  };
  log(render(result));
  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  const file = path.join(benchDir, 'results', `growth-${options.agent}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

function render(result) {
  const row = (label, f) => [label, f.run_holds_trials, f.steady_trials, f.overhead_ms.median, f.overhead_ms.mean, f.overhead_ms.p95, f.wall_ms.median, f.own_cpu_mean_ms, f.first_trial_overhead_ms.median, f.open_ms.median, f.close_ms.median, f.rss_mb_at_block_end, f.heap_mb_at_block_end];
  const r = result.old_over_young;
  return [
    `steady state: each session's first ${result.warm_up} trials left out`,
    formatTable(
      ['run', 'trials at the end', 'steady', 'overhead median', 'mean', 'p95', 'wall median', 'own CPU mean', 'first trial', 'open', 'end', 'RSS MB', 'heap MB'],
      [row('old', result.old), row('young', result.young)],
    ),
    `old / young: overhead ${r.overhead_median} (medians), ${r.overhead_mean} (means); wall ${r.wall_median}; own CPU ${r.own_cpu_mean}; a session's first trial ${r.first_trial_median}, open ${r.open_median}, end ${r.close_median}`,
    'open: from startRun to the first trial; end: from the last trial to its return (medians, ms)',
    `median over adjacent blocks of old mean / young mean: ${r.adjacent_blocks_mean_median}`,
  ].join('\n');
}

function parseOptions(argv) {
  const result = { agent: 'command', prefill: 10_000, trials: 400, block: 100, warmUp: 10, old: null, keep: false };
  const numbers = { '--prefill': 'prefill', '--trials': 'trials', '--block': 'block', '--warm-up': 'warmUp' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') result.keep = true;
    else if (arg === '--agent') {
      result.agent = argv[++i];
      if (result.agent !== 'command' && result.agent !== 'tuner') usage('--agent is command or tuner');
    } else if (arg === '--old') {
      result.old = path.resolve(argv[++i] ?? usage('--old needs a folder'));
      if (!existsSync(path.join(result.old, '.crucible', 'runs', TAG))) usage(`--old: ${result.old} holds no run tagged ${TAG}`);
    } else if (arg in numbers) {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) usage(`${arg} needs a whole number of 1 or more`);
      result[numbers[arg]] = n;
    } else usage(`unknown option ${arg}`);
  }
  if (result.warmUp >= result.block) usage('--warm-up must be less than --block');
  return result;
}

function usage(message) {
  process.stderr.write(`${message}\nusage: node bench/growth.mjs [--agent command|tuner] [--prefill 10000] [--trials 400] [--block 100] [--warm-up 10] [--old <dir>] [--keep]\n`);
  process.exit(2);
}

function log(text) {
  process.stdout.write(`${text}\n`);
}
