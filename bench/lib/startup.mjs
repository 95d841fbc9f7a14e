import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBenchProject } from './fixture.mjs';
import { installGitShim } from './git-shim.mjs';
import { buildRef } from './overhead.mjs';
import { childrenCpuMs } from './machine.mjs';
import { median, percentile, round } from './stats.mjs';

/**
 * Start-up of the `crucible` command: how long a person waits for `--help`, `status` and
 * `history --json`, and how long `run` takes to start its first trial, each next to a bare
 * `node -e 0` so the figure reads as a ratio that other machines can compare.
 *
 * Every build (the current dist/ and, with a base, an older commit built alongside) and every
 * command is measured in the same rounds, interleaved, the order reversed every other round: load
 * from other processes falls on all of them alike. Wall time is the figure; the children's CPU
 * time (Linux, 10 ms ticks) is kept too, because on a shared machine it varies less. A build is a
 * CLI path, or { cli, env } for the same CLI run with other variables.
 *
 * Each command is started as the installed `crucible` is: its file executed, its first line
 * saying how (`#!/usr/bin/env node` before issue 12's shell launcher, `#!/bin/sh` since), so the
 * `node` on PATH runs it. What that launcher saves depends on NODE_EXTRA_CA_CERTS (Node reads it
 * as it starts): whether it is set is part of the figures (`node_extra_ca_certs`).
 */

/** The commands timed, in the order of the table. `null` args: bare Node. */
export const STARTUP_COMMANDS = [
  { name: 'node -e 0', args: null },
  { name: 'crucible --help', args: ['--help'] },
  { name: 'crucible status', args: ['status'] },
  { name: 'crucible history --json', args: ['history', '--json'] },
  { name: 'crucible run: first trial.start', args: 'run' },
];

/**
 * Builds `ref` of the repository at `repoRoot` into `dir` (git archive, the checkout's
 * node_modules linked, `npm run build`), for a before/after comparison in one run. Returns the
 * path of its CLI.
 */
/** A build's CLI path and the variables it runs with. */
function buildOf(build, env) {
  return typeof build === 'string' ? { cli: build, env } : { cli: build.cli, env: { ...env, ...build.env } };
}

export function buildCommit(repoRoot, ref, dir) {
  const cli = path.join(buildRef(repoRoot, ref, dir), 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`building ${ref} wrote no ${cli}`);
  return cli;
}

/**
 * Measures every command for every build. `builds`: { name: cliPath }. `dir`: an empty folder for
 * the project. Returns per build and command the wall and CPU times (median, p10, p90, min, max)
 * and the ratio of the median to bare Node's.
 */
export async function measureStartup({ builds, dir, env, runs = 15, trials = 20, log = () => {} }) {
  const project = createBenchProject(dir);
  const names = Object.keys(builds);
  // npm marks the installed file executable, and so does the build since decisions 69; an older
  // build's dist/ (a --base before it) is not.
  for (const name of names) chmodSync(buildOf(builds[name], env).cli, 0o755);
  const first = builds[names[0]];
  // Records to read: `trials` trials of the tuner, then one resumable run per build for `run`.
  runCli(buildOf(first, env), ['run', '-t', 'bench', '-n', String(trials), '--no-interactive'], project);
  for (const name of names) runCli(buildOf(builds[name], env), ['run', '-t', runTag(name), '-n', '1', '--no-interactive'], project);

  const samples = new Map();
  const record = (key, wall, cpu) => {
    if (!samples.has(key)) samples.set(key, { wall: [], cpu: [] });
    samples.get(key).wall.push(wall);
    if (cpu !== null) samples.get(key).cpu.push(cpu);
  };
  const jobs = [];
  for (const command of STARTUP_COMMANDS) {
    if (command.args === null) jobs.push({ key: `node|${command.name}`, command });
    else for (const name of names) jobs.push({ key: `${name}|${command.name}`, command, build: name });
  }
  // One warm-up round fills the page cache; it is not counted.
  for (let round = -1; round < runs; round++) {
    const order = round % 2 === 0 ? jobs : [...jobs].reverse();
    for (const job of order) {
      const { wall, cpu } = await timeJob(job, builds, project, env);
      if (round >= 0) record(job.key, wall, cpu);
    }
    if (round >= 0) log(`round ${round + 1}/${runs}`);
  }

  const bare = summarize(samples.get(`node|node -e 0`));
  const result = { runs, project_trials: trials, node_extra_ca_certs: env.NODE_EXTRA_CA_CERTS === undefined ? 'unset' : 'set', started_as: 'the CLI file executed, as installed', node_ms: bare, builds: {} };
  for (const name of names) {
    const { cli, env: buildEnv } = buildOf(builds[name], {});
    // Counted after the timings: the shim costs a shell start per git process.
    const gitProcesses = await countRunGitProcesses(buildOf(builds[name], env), runTag(name), project, dir);
    result.builds[name] = { cli, ...(Object.keys(buildEnv).length > 0 ? { env: buildEnv } : {}), run_git_processes: gitProcesses, commands: {} };
    for (const command of STARTUP_COMMANDS.slice(1)) {
      const figures = summarize(samples.get(`${name}|${command.name}`));
      result.builds[name].commands[command.name] = { ...figures, ratio_to_node: round(figures.wall.median / bare.wall.median, 2) };
    }
  }
  return result;
}

function runCli({ cli, env }, args, cwd) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`crucible ${args.join(' ')} exited with ${result.status}: ${result.stderr.trim()}`);
}

function runTag(build) {
  return `startup-${build.replace(/[^A-Za-z0-9-]/g, '-')}`;
}

async function timeJob(job, builds, project, baseEnv) {
  const { cli, env } = job.build === undefined ? { cli: null, env: baseEnv } : buildOf(builds[job.build], baseEnv);
  if (job.command.args === 'run') return timeFirstTrial(cli, runTag(job.build), project, env);
  const [file, args] = job.command.args === null ? [process.execPath, ['-e', '0']] : [cli, job.command.args];
  const cpuBefore = childrenCpuMs();
  const start = performance.now();
  const result = spawnSync(file, args, { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const wall = performance.now() - start;
  if (result.status !== 0) throw new Error(`${job.key} exited with ${result.status}: ${result.stderr.trim()}`);
  const cpuAfter = childrenCpuMs();
  return { wall, cpu: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore };
}

/**
 * `crucible run -n 1 --json` on a run that exists, left to finish its trial (a killed run would
 * leave work for the next start to recover). `atFirstTrial` is called when its first
 * `trial.start` event arrives on stdout; resolves with what it returned.
 */
function runOneTrial(cli, tag, project, env, atFirstTrial) {
  return new Promise((resolve, reject) => {
    const child = spawn(cli, ['run', '-t', tag, '-n', '1', '--json', '--no-interactive'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let found = null;
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline;
      while (found === null && (newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (JSON.parse(line).type === 'trial.start') found = { value: atFirstTrial() };
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || found === null) reject(new Error(`crucible run -t ${tag} exited with ${code} (first trial.start seen: ${found !== null}): ${stderr.trim()}`));
      else resolve(found.value);
    });
  });
}

/** ms from the spawn of `crucible run -n 1` to its first `trial.start`. */
async function timeFirstTrial(cli, tag, project, env) {
  const start = performance.now();
  return { wall: await runOneTrial(cli, tag, project, env, () => performance.now() - start), cpu: null };
}

/**
 * The git processes `crucible run -n 1` starts on a run that exists: before its first
 * `trial.start` event, and in all (with the trial, and the session's end). Git is the largest
 * part of what `run` does before its first trial, each process ~10 ms on a small machine.
 */
async function countRunGitProcesses({ cli, env }, tag, project, dir) {
  const shim = installGitShim(path.join(dir, '..', `git-shim-${tag}`));
  const beforeFirstTrial = await runOneTrial(cli, tag, project, { ...env, PATH: shim.env.PATH }, () => shim.calls().length);
  const calls = shim.calls();
  return { before_first_trial: beforeFirstTrial, whole_run: calls.length, before_first_trial_calls: calls.slice(0, beforeFirstTrial) };
}

function summarize({ wall, cpu }) {
  const describe = (values) =>
    values.length === 0 ? null : { median: round(median(values)), p10: round(percentile(values, 10)), p90: round(percentile(values, 90)), min: round(Math.min(...values)), max: round(Math.max(...values)), n: values.length };
  return { wall: describe(wall), cpu: describe(cpu) };
}

/** The table for the terminal: one row per command, a column pair per build. */
export function renderStartup(result) {
  const names = Object.keys(result.builds);
  const header = ['command', ...names.flatMap((n) => [`${n} ms (p10–p90)`, `${n} × node`])];
  const cell = (f) => `${f.wall.median} (${f.wall.p10}–${f.wall.p90})`;
  const rows = [['node -e 0', ...names.flatMap(() => [cell(result.node_ms), '1.00'])]];
  for (const command of STARTUP_COMMANDS.slice(1)) {
    rows.push([command.name, ...names.flatMap((n) => [cell(result.builds[n].commands[command.name]), result.builds[n].commands[command.name].ratio_to_node.toFixed(2)])]);
  }
  rows.push(['git processes: run, before trial 1', ...names.flatMap((n) => [String(result.builds[n].run_git_processes.before_first_trial), `${result.builds[n].run_git_processes.whole_run} in all`])]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => String(r[i]).length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')).join('\n');
}

/**
 * The instructions each command executes (valgrind's cachegrind, `I refs`, every thread counted):
 * a figure that load from other processes does not move, where wall time on a shared machine
 * moves by more than what is measured. Median of `runs` counts per build and command (V8's
 * background threads vary it by about 1%). Null when valgrind is not installed.
 */
export function countInstructions({ builds, dir, env, runs = 3, log = () => {} }) {
  if (spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const count = (args, runEnv) => {
    const result = spawnSync('valgrind', ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, ...args], { cwd: dir, env: runEnv, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const refs = /I\s+refs:\s+([\d,]+)/.exec(result.stderr);
    if (result.status !== 0 || refs === null) throw new Error(`valgrind ${args.join(' ')} exited with ${result.status}: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
    return Number(refs[1].replaceAll(',', ''));
  };
  const medianOf = (args, runEnv) => median(Array.from({ length: runs }, () => count(args, runEnv)));
  const node = medianOf(['-e', '0'], env);
  const result = { runs, node_e_0: node, builds: {} };
  for (const [name, build] of Object.entries(builds)) {
    const { cli, env: buildEnv } = buildOf(build, env);
    result.builds[name] = {};
    for (const command of STARTUP_COMMANDS.slice(1, 4)) {
      const refs = medianOf([cli, ...command.args], buildEnv);
      result.builds[name][command.name] = { instructions: refs, above_node: refs - node };
      log(`instructions: ${name} ${command.name} ${(refs / 1e6).toFixed(1)} M (${((refs - node) / 1e6).toFixed(1)} M above node -e 0)`);
    }
  }
  return result;
}

/** The instruction counts as a table: millions, and what each command adds to bare Node's. */
export function renderInstructions(counts) {
  const names = Object.keys(counts.builds);
  const lines = [`instructions (millions, valgrind; node -e 0: ${(counts.node_e_0 / 1e6).toFixed(1)}), above node -e 0:`];
  for (const command of STARTUP_COMMANDS.slice(1, 4)) {
    lines.push(`  ${command.name.padEnd(24)} ${names.map((n) => `${n} ${(counts.builds[n][command.name].above_node / 1e6).toFixed(1)}`).join('   ')}`);
  }
  return lines.join('\n');
}
