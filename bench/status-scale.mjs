/**
 * How the read-only commands scale with a run's length: `crucible status`, `status --json` and
 * `history --json` on a run of --trials trials (default 10,000).
 *
 *   node bench/status-scale.mjs [--trials 10000] [--seed-trials 30] [--runs 15] [--cli other/dist/cli/main.js ...] [--keep]
 *                               [--project a-project-kept-by-an-earlier---keep]
 *
 * A real run of the tuner (--seed-trials trials on the bench project) gives real ledger events
 * and results.tsv rows; they are then repeated, renumbered, up to --trials, as a long run would
 * have written them. Each command is timed (median of --runs) with the built CLI of this checkout
 * and with every --cli given (an older build, say), interleaved, on the same files, next to a bare
 * `node -e ""`, in three states of the run's checkpoint (run-checkpoint.ts), written as the run
 * writes it: at the end of a session (it covers the whole ledger); mid-run, at its worst (the
 * ledger has grown by almost CHECKPOINT_EVERY_BYTES since); and none (a run of an older crucible,
 * or one that never ended a session). Builds before the checkpoint read the whole ledger in all three.
 * Never run as a timed test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { median, round } from './lib/stats.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const options = parseOptions(process.argv.slice(2));
const clis = [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...options.clis];
const dist = (file) => import(pathToFileURL(path.join(repoRoot, 'dist', ...file.split('/'))).href);
const { startRun } = await dist('loop/start-run.js');
const { openLedger } = await dist('store/ledger.js');
const { openCheckpointWriter, CHECKPOINT_EVERY_BYTES } = await dist('store/checkpoint-writer.js');
const { runPaths } = await dist('store/run-paths.js');

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-status-scale-')));
const env = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(tmp, 'worktrees') };
try {
  let project = options.project;
  if (project === null) {
    project = createBenchProject(path.join(tmp, 'project'));
    await startRun({ projectDir: project, tag: 'long', agentType: 'tuner', maxIterations: options.seedTrials, env });
    const sizes = stretchRun(project, 'long', options.trials);
    process.stdout.write(`run "long": ${options.trials} trials; ledger ${mb(sizes.ledger)} MB, results.tsv ${mb(sizes.results)} MB\n\n`);
  }
  const paths = runPaths(project, 'long');
  const ledgerText = readFileSync(paths.ledger);
  const states = [
    ['checkpoint at the end', () => writeCheckpoint(paths, ledgerText, ledgerText.length)],
    ['checkpoint mid-run', () => writeCheckpoint(paths, ledgerText, ledgerText.lastIndexOf(10, Math.max(0, ledgerText.length - CHECKPOINT_EVERY_BYTES + 1024)) + 1)],
    ['no checkpoint', () => rmSync(paths.checkpoint, { force: true })],
  ];
  for (const [state, prepare] of states) {
    prepare();
    process.stdout.write(`${state}:\n`);
    // Interleaved, one run of each build in turn: load from other processes hits every build alike.
    // CPU time (user + sys, from GNU time when there is one) is steadier than wall time on a busy machine.
    const commands = [['-e', ''], ...[['status'], ['status', '--json'], ['history', '--json']].flatMap((args) => clis.map((cli) => [cli, ...args]))];
    for (const args of commands) timeOnce(args, project);
    const times = new Map(commands.map((args) => [args, { wall: [], cpu: [] }]));
    for (let round = 0; round < options.runs; round++) {
      for (const args of commands) {
        const t = timeOnce(args, project);
        times.get(args).wall.push(t.wall);
        if (t.cpu !== null) times.get(args).cpu.push(t.cpu);
      }
    }
    const bare = median(times.get(commands[0]).wall);
    for (const [args, { wall, cpu }] of times) {
      const name = args[0] === '-e' ? 'bare node' : `${path.relative(process.cwd(), args[0])} ${args.slice(1).join(' ')}`;
      const cpuText = cpu.length > 0 ? `; cpu median ${round(median(cpu))} ms (min ${round(Math.min(...cpu))})` : '';
      process.stdout.write(`  ${name}: wall median ${round(median(wall))} ms (min ${round(Math.min(...wall))}, ${round(median(wall) / bare)}x bare node)${cpuText}, ${wall.length} runs\n`);
    }
  }
} finally {
  if (options.keep) process.stderr.write(`kept ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}

/** The checkpoint the run writes when its ledger is `text`'s first `end` bytes; the ledger is then `text` again. */
function writeCheckpoint(paths, text, end) {
  writeFileSync(paths.ledger, text.subarray(0, end));
  const ledger = openLedger(paths.ledger);
  openCheckpointWriter(paths.checkpoint, 'long', ledger).write();
  ledger.close();
  writeFileSync(paths.ledger, text);
}

/** One run of `node <args>`: wall time, and CPU time when GNU time is there to measure it. */
function timeOnce(args, cwd) {
  const gnuTime = existsSync('/usr/bin/time');
  const file = gnuTime ? '/usr/bin/time' : process.execPath;
  const argv = gnuTime ? ['-f', 'cpu %U %S', process.execPath, ...args] : args;
  const start = performance.now();
  const result = spawnSync(file, argv, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = performance.now() - start;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status}: ${result.stderr.trim()}`);
  const cpu = /cpu (\d+\.\d+) (\d+\.\d+)\s*$/.exec(result.stderr);
  return { wall, cpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : null };
}

/**
 * Repeats the run's trials after the baseline (their ledger events and results rows) until it has
 * `total` trials: trial k copies seed trial 1 + (k - 1) mod seeds, numbers and timestamps shifted.
 */
function stretchRun(project, tag, total) {
  const ledgerFile = path.join(project, '.crucible', 'runs', tag, 'ledger.jsonl');
  const resultsFile = path.join(project, 'results.tsv');
  const events = readFileSync(ledgerFile, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
  const [header, ...rows] = readFileSync(resultsFile, 'utf8').split('\n').filter((line) => line !== '');
  const columns = header.split('\t');
  const trialColumn = columns.indexOf('trial');
  const seedEnd = Math.max(...events.filter((e) => e.type === 'trial.end').map((e) => e.n));
  const trialEvents = (n) => events.filter((e) => e.n === n);
  const out = events.filter((e) => e.n === undefined || e.n === 0);
  const outRows = rows.filter((row) => row.split('\t')[trialColumn] === '0');
  for (let k = 1; k <= total; k++) {
    const seed = 1 + ((k - 1) % seedEnd);
    for (const event of trialEvents(seed)) {
      const copy = { ...event, n: k };
      if (copy.type === 'trial.end') copy.summary = { ...copy.summary, trial: k };
      out.push(copy);
    }
    const cells = rows.find((row) => row.split('\t')[trialColumn] === String(seed)).split('\t');
    cells[trialColumn] = String(k);
    outRows.push(cells.join('\t'));
  }
  const ledgerText = out.map((e) => `${JSON.stringify(e)}\n`).join('');
  const resultsText = [header, ...outRows].map((line) => `${line}\n`).join('');
  writeFileSync(ledgerFile, ledgerText);
  writeFileSync(resultsFile, resultsText);
  return { ledger: Buffer.byteLength(ledgerText), results: Buffer.byteLength(resultsText) };
}

function mb(bytes) {
  return (bytes / 1e6).toFixed(1);
}

function parseOptions(args) {
  const parsed = { trials: 10_000, seedTrials: 30, runs: 15, clis: [], keep: false, project: null };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--trials') parsed.trials = Number(args[++i]);
    else if (arg === '--seed-trials') parsed.seedTrials = Number(args[++i]);
    else if (arg === '--runs') parsed.runs = Number(args[++i]);
    else if (arg === '--cli') parsed.clis.push(path.resolve(args[++i]));
    else if (arg === '--keep') parsed.keep = true;
    else if (arg === '--project') parsed.project = path.resolve(args[++i]);
    else throw new Error(`unknown option ${arg}`);
  }
  return parsed;
}
