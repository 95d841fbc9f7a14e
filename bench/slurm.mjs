/**
 * `npm run bench` (last): trials per hour on a local single-node Slurm (bench/lib/slurm-cluster.mjs)
 * for workers = 1 and 4, as a ratio to workers = 1. The parallel bench's project (a `command` agent
 * that sleeps --agent-seconds, an experiment that sleeps --experiment-seconds) with
 * `executor: slurm`: each experiment is a batch job. Where Slurm is not installed, or the cluster
 * cannot start (not root), it says so in one line and exits 0.
 *
 *   node bench/slurm.mjs [--rounds 6] [--experiment-seconds 2] [--agent-seconds 0.5] [--poll-seconds 0.5]
 *
 * Prints a table and writes bench/results/slurm.json. Never run as a timed test.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchGitEnv } from './lib/fixture.mjs';
import { foldTrials, readLedger, trialsPerHour, windowOf } from './lib/ledger-timeline.mjs';
import { createParallelProject } from './lib/parallel-project.mjs';
import { slurmUnavailable, startSlurmCluster } from './lib/slurm-cluster.mjs';
import { round } from './lib/stats.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const options = parseOptions(process.argv.slice(2));
const unavailable = slurmUnavailable();
if (unavailable !== null) {
  process.stdout.write(`\nSlurm bench skipped: ${unavailable}\n`);
  process.exit(0);
}
const distDir = path.join(repoRoot, 'dist');
if (!existsSync(path.join(distDir, 'loop', 'start-run.js'))) {
  process.stderr.write('dist/ is missing: run `npm run bench` (it builds first) or `npm run build`.\n');
  process.exit(1);
}
const { startRun } = await import(pathToFileURL(path.join(distDir, 'loop', 'start-run.js')).href);

let cluster;
try {
  cluster = startSlurmCluster({ cpus: 8 });
} catch (error) {
  process.stdout.write(`\nSlurm bench skipped: the local cluster did not start (${String(error.message).split('\n')[0]})\n`);
  process.exit(0);
}
const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-slurm-')));
try {
  const runs = [];
  for (const workers of [1, 4]) runs.push(await measure(workers));
  const base = runs[0].trials_per_hour.steady;
  for (const run of runs) run.ratio_to_1 = base > 0 ? round(run.trials_per_hour.steady / base, 2) : null;
  render(runs);
  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  writeFileSync(path.join(benchDir, 'results', 'slurm.json'), `${JSON.stringify({ options, runs }, null, 2)}\n`);
} finally {
  try {
    execFileSync('scancel', ['--user=root'], { env: cluster.env, stdio: 'ignore' });
  } catch {
    // nothing left to cancel
  }
  cluster.stop();
  rmSync(tmp, { recursive: true, force: true });
}

async function measure(workers) {
  const dir = path.join(tmp, `w${workers}`);
  createParallelProject(dir, { experimentSeconds: options.experimentSeconds, agentSeconds: options.agentSeconds, agents: workers + 1 });
  appendFileSync(path.join(dir, '.crucible', 'config.yaml'), `  workers: ${workers}\nexecutor:\n  type: slurm\n  slurm:\n    poll_seconds: ${options.pollSeconds}\n`);
  execFileSync('git', ['-c', 'commit.gpgsign=false', 'commit', '-qam', 'slurm executor'], { cwd: dir, env: { ...process.env, ...benchGitEnv }, stdio: 'ignore' });
  const trials = options.rounds * workers;
  const began = performance.now();
  const report = await startRun({
    projectDir: dir,
    tag: 'bench',
    maxIterations: trials,
    workers,
    env: { ...process.env, ...benchGitEnv, ...cluster.env, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(tmp, `worktrees-${workers}`) },
    reporter: {},
  });
  const wallMs = performance.now() - began;
  const runDir = path.join(dir, '.crucible', 'runs', 'bench');
  const ledger = foldTrials(readLedger(path.join(runDir, 'ledger.jsonl')), () => ({}));
  const events = readFileSync(path.join(runDir, 'ledger.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const queued = queueTimes(events);
  return {
    workers,
    trials,
    stopped_by: report.reason.kind,
    session_wall_ms: round(wallMs, 0),
    window_ms: windowOf(ledger).ms,
    trials_per_hour: trialsPerHour(ledger),
    // From submission (run.start) to the job seen RUNNING: the queue and the poll interval.
    median_queue_ms: queued.length === 0 ? null : queued.sort((a, b) => a - b)[Math.floor(queued.length / 2)],
  };
}

function queueTimes(events) {
  const submitted = new Map();
  const times = [];
  for (const e of events) {
    if (e.type === 'run.start' && e.handle?.executor === 'slurm') submitted.set(e.handle.jobId, Date.parse(e.ts));
    if (e.type === 'job.state' && e.state === 'RUNNING' && submitted.has(e.jobId)) times.push(Date.parse(e.ts) - submitted.get(e.jobId));
  }
  return times;
}

function render(runs) {
  const lines = ['', `Slurm (local single node): trials per hour, experiment ${options.experimentSeconds}s, agent ${options.agentSeconds}s, poll ${options.pollSeconds}s`];
  lines.push('  workers  trials  per hour (window)  per hour (steady)  ratio to 1  median queue');
  for (const r of runs) {
    lines.push(
      `  ${String(r.workers).padStart(7)}  ${String(r.trials).padStart(6)}  ${String(r.trials_per_hour.window).padStart(17)}  ${String(r.trials_per_hour.steady).padStart(17)}  ${String(r.ratio_to_1).padStart(10)}  ${r.median_queue_ms === null ? '-' : `${r.median_queue_ms} ms`}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function parseOptions(argv) {
  const o = { rounds: 6, experimentSeconds: 2, agentSeconds: 0.5, pollSeconds: 0.5 };
  for (let i = 0; i < argv.length; i++) {
    const next = () => Number(argv[++i]);
    if (argv[i] === '--rounds') o.rounds = next();
    else if (argv[i] === '--experiment-seconds') o.experimentSeconds = next();
    else if (argv[i] === '--agent-seconds') o.agentSeconds = next();
    else if (argv[i] === '--poll-seconds') o.pollSeconds = next();
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}
