/**
 * `npm run bench:startup`: how long the `crucible` command takes to start, against bare Node.
 *
 *   node bench/startup.mjs [--runs 15] [--base <git ref>] [--keep] [--instructions]
 *
 * Times `node -e 0`, `crucible --help`, `crucible status`, `crucible history --json` (on a
 * project with 20 trials) and `crucible run`'s time to its first `trial.start` event, interleaved
 * in one run, --runs times each (median and p10–p90). With --base, that commit is built into a
 * temporary folder and measured in the same rounds as the current dist/ ("before" and "after").
 *
 * With --instructions, each command's instruction count under valgrind is added (a figure
 * that load does not move; slow: about 3 s a command). Each build's `run` is also counted for
 * its git processes (before its first trial, and in all).
 *
 * Prints a table and writes bench/results/startup.json. Never run as a timed test.
 */
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { benchGitEnv } from './lib/fixture.mjs';
import { cpuPressure, describeMachine, loadAverage } from './lib/machine.mjs';
import { buildCommit, countInstructions, measureStartup, renderInstructions, renderStartup } from './lib/startup.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repoRoot, 'dist', 'cli', 'main.js');
const options = parseOptions(process.argv.slice(2));

if (!existsSync(cli)) {
  process.stderr.write('dist/ is missing: run `npm run bench:startup` (it builds first) or `npm run build`.\n');
  process.exit(1);
}

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-startup-')));
const env = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(tmp, 'worktrees') };
try {
  const machine = describeMachine();
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  const builds = {};
  let base = null;
  if (options.base) {
    base = execFileSync('git', ['rev-parse', '--short', options.base], { cwd: repoRoot, encoding: 'utf8' }).trim();
    log(`building ${options.base} (${base}) into a temporary folder ...`);
    builds.before = buildCommit(repoRoot, options.base, path.join(tmp, 'base'));
  }
  builds[options.base ? 'after' : 'current'] = cli;
  log(`crucible start-up: ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.cpuModel}); ${options.runs} runs each, interleaved; NODE_EXTRA_CA_CERTS ${env.NODE_EXTRA_CA_CERTS === undefined ? 'unset' : 'set'}`);
  const loadBefore = loadAverage();
  const pressureBefore = cpuPressure();
  const result = await measureStartup({ builds, dir: path.join(tmp, 'project'), env, runs: options.runs, log });
  log(`\n${renderStartup(result)}`);
  const instructions = options.instructions ? countInstructions({ builds, dir: path.join(tmp, 'project'), env, log }) : null;
  if (options.instructions) log(instructions === null ? 'instructions: valgrind is not installed' : `\n${renderInstructions(instructions)}`);
  const out = {
    date: new Date().toISOString(),
    machine,
    load_average_1_5_15: { before: loadBefore, after: loadAverage() },
    cpu_pressure: { before: pressureBefore, after: cpuPressure() },
    commits: { ...(base ? { before: base } : {}), [base ? 'after' : 'current']: `${head} (working tree)` },
    ...result,
    ...(instructions ? { instructions } : {}),
  };
  mkdirSync(path.join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'bench', 'results', 'startup.json'), `${JSON.stringify(out, null, 2)}\n`);
  log('\nwrote bench/results/startup.json');
} finally {
  if (options.keep) log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

function parseOptions(args) {
  const parsed = { runs: 15, base: null, keep: false, instructions: false };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') parsed.runs = Number(args[++i]);
    else if (args[i] === '--base') parsed.base = args[++i];
    else if (args[i] === '--keep') parsed.keep = true;
    else if (args[i] === '--instructions') parsed.instructions = true;
    else {
      process.stderr.write(`unknown option ${args[i]}\nusage: node bench/startup.mjs [--runs 15] [--base <git ref>] [--keep] [--instructions]\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(parsed.runs) || parsed.runs < 1) {
    process.stderr.write('--runs must be a whole number of 1 or more\n');
    process.exit(2);
  }
  return parsed;
}

function log(line) {
  process.stderr.write(`${line}\n`);
}
