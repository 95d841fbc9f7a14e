/**
 * `npm run bench:spawn-host`: what starting the run's commands from a spawn host saves a trial
 * (docs/decisions.md 63, 64), on this checkout's build: the Python host (`CRUCIBLE_SPAWN_HOST=python`,
 * posix_spawn), the Node host (`=node`) and none (`=0`: crucible forks for every command).
 *
 *   node bench/spawn-host.mjs [--trials 200] [--block 50] [--agent tuner|command|both] [--no-sandbox]
 *
 * For each path (the tuner; a `command` agent), one project of the loop bench per side, each run
 * --trials trials in blocks of --block, the sides in turn (the order rotating each round). Each
 * block is a session in a fresh Node process: a fork marks every page of the process that made
 * it, so the sides must not share one. Prints per side the medians of crucible's overhead per
 * trial (totalMs − agentMs − runMs), the agent's turn, the experiment, the wall per trial,
 * crucible's own CPU and its page faults per trial, and the ratios of each host over none and of
 * Python over Node. Writes bench/results/spawn-host.json. Never run as a timed test.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { describeMachine, loadAverage } from './lib/machine.mjs';
import { formatTable, median, round } from './lib/stats.mjs';
import { runTunerTrials } from './lib/tuner-trials.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const self = fileURLToPath(import.meta.url);
/** Each side and its CRUCIBLE_SPAWN_HOST. */
const SIDES = { 'python host': 'python', 'node host': 'node', 'no host': '0' };

if (process.argv[2] === '--session') await session(process.argv.slice(3));
else main();

/** One block, in this fresh process: `count` trials of the project, the per-trial figures to `out`. */
async function session([projectDir, worktrees, count, agent, out]) {
  const { startRun } = await import(pathToFileURL(path.join(repoRoot, 'dist', 'index.js')).href);
  const env = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: worktrees };
  let faultsAt = 0;
  const faults = [];
  const timed = await runTunerTrials(
    (options) =>
      startRun({
        ...options,
        reporter: {
          trialStart(...args) {
            faultsAt = process.resourceUsage().minorPageFault;
            options.reporter.trialStart(...args);
          },
          trialEnd(summary) {
            if (summary.outcome !== 'baseline') faults.push(process.resourceUsage().minorPageFault - faultsAt);
            options.reporter.trialEnd(summary);
          },
        },
      }),
    { projectDir, tag: 'host', count: Number(count), env, agentType: agent === 'tuner' ? 'tuner' : null },
  );
  writeFileSync(out, JSON.stringify(timed.trials.map((trial, i) => ({ ...trial, faults: faults[i] }))));
}

function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!readFileSync(path.join(repoRoot, 'dist', 'index.js'), 'utf8')) throw new Error('dist/ is missing: npm run build');
  const machine = describeMachine();
  const loadBefore = loadAverage();
  log(`spawn host: ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.cpuModel}); ${options.trials} trials a side, blocks of ${options.block}`);
  const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-host-')));
  const results = {};
  try {
    for (const agent of options.agents) {
      const sides = Object.entries(SIDES).map(([name, variable]) => ({ name, variable, projectDir: createBenchProject(path.join(tmp, `${agent}-${name.replace(' ', '-')}`), { agent, sandbox: options.sandbox }), trials: [] }));
      for (let block = 0; sides.some((s) => s.trials.length < options.trials); block++) {
        for (const side of [...sides.slice(block % sides.length), ...sides.slice(0, block % sides.length)]) {
          const count = Math.min(options.block, options.trials - side.trials.length);
          if (count <= 0) continue;
          const out = path.join(tmp, 'block.json');
          execFileSync(process.execPath, [self, '--session', side.projectDir, path.join(tmp, `wt-${agent}`), String(count), agent, out], {
            stdio: ['ignore', 'ignore', 'inherit'],
            env: { ...process.env, CRUCIBLE_SPAWN_HOST: side.variable },
          });
          side.trials.push(...JSON.parse(readFileSync(out, 'utf8')));
        }
      }
      const figures = Object.fromEntries(sides.map((side) => [side.name, summarise(side.trials)]));
      const ratios = (over, under) => Object.fromEntries(['overhead_ms', 'wall_ms', 'own_cpu_ms', 'faults'].map((key) => [key.replace('_ms', ''), round(figures[over][key] / figures[under][key], 3)]));
      results[agent] = {
        ...figures,
        python_host_over_no_host: ratios('python host', 'no host'),
        node_host_over_no_host: ratios('node host', 'no host'),
        python_host_over_node_host: ratios('python host', 'node host'),
      };
      log(`\n${agent} (medians per trial, ${options.trials} trials a side)`);
      const keys = ['overhead_ms', 'agent_ms', 'experiment_ms', 'wall_ms', 'own_cpu_ms', 'faults'];
      log(formatTable(['side', ...keys], sides.map((side) => [side.name, ...keys.map((key) => figures[side.name][key])])));
      for (const [label, r] of [['python host / no host', results[agent].python_host_over_no_host], ['node host / no host', results[agent].node_host_over_no_host], ['python host / node host', results[agent].python_host_over_node_host]]) {
        log(`${label}: overhead ${r.overhead}, wall ${r.wall}, crucible's CPU ${r.own_cpu}, faults ${r.faults}`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const file = path.join(benchDir, 'results', options.sandbox ? 'spawn-host.json' : 'spawn-host-no-sandbox.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine, load_average_1_5_15: { before: loadBefore, after: loadAverage() }, trials_per_side: options.trials, block: options.block, sandbox: options.sandbox, results }, null, 2)}\n`);
  log(`\nwrote ${path.relative(process.cwd(), file)}`);
}


function summarise(trials) {
  const of = (key) => round(median(trials.map((t) => t[key])), 2);
  return { trials: trials.length, overhead_ms: of('overheadMs'), agent_ms: of('agentMs'), experiment_ms: of('runMs'), wall_ms: of('wallMs'), own_cpu_ms: of('ownCpuMs'), faults: of('faults') };
}

function parseOptions(argv) {
  const parsed = { trials: 200, block: 50, agents: ['tuner', 'command'], sandbox: true };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--no-sandbox') {
      parsed.sandbox = false;
      continue;
    }
    if (argv[i] === '--trials') parsed.trials = Number(value);
    else if (argv[i] === '--block') parsed.block = Number(value);
    else if (argv[i] === '--agent') parsed.agents = value === 'both' ? ['tuner', 'command'] : [value];
    else usage(`unknown option ${argv[i]}`);
    i++;
  }
  if (!Number.isInteger(parsed.trials) || parsed.trials < 1 || !Number.isInteger(parsed.block) || parsed.block < 1) usage('--trials and --block are whole numbers of 1 or more');
  if (!parsed.agents.every((agent) => agent === 'tuner' || agent === 'command')) usage('--agent is tuner, command or both');
  return parsed;
}

function usage(message) {
  process.stderr.write(`${message}\nusage: node bench/spawn-host.mjs [--trials 200] [--block 50] [--agent tuner|command|both] [--no-sandbox]\n`);
  process.exit(2);
}

function log(text) {
  process.stdout.write(`${text}\n`);
}
