/**
 * `npm run bench:fs`: what the file system's durability and atomicity cost a trial on this machine.
 *
 *   node bench/fs-cost.mjs [--trials 100] [--rounds 300]
 *
 * 1. Unit costs, measured after the trials (median µs of --rounds each, in a folder under the
 *    system's temporary folder, the file system the bench projects live on):
 *    - a 100-byte file written under a new name, then renamed onto another new name;
 *    - the same renamed over an existing file: git's lock-file protocol for a ref, HEAD and the
 *      index, and crucible's atomic write of a file;
 *    - an existing file rewritten in place (truncated, then written);
 *    - fdatasync after a 200-byte append: the ledger's write-ahead flush;
 *    - fsync of a new 100-byte file: a loose object.
 *    On ext4 (its default auto_da_alloc), a rename over an existing file and a truncation of one
 *    start the new data's write-back at once, inside the call.
 * 2. Per trial, measured first: --trials tuner trials (the bench project, sandbox off) with
 *    node:fs's calls counted in this process: renames over an existing file and onto a new name,
 *    writes that truncate an existing file, fdatasync and fsync. A first run of as many trials,
 *    not counted, gives the trial's accounting (total − agent − run) without the counting's cost.
 * 3. The counts times the unit costs: the part of a trial's accounting that these calls take (at
 *    most, for the fsyncs: a commit's objects are fsynced in parallel).
 *
 * Prints a table and writes bench/results/fs-cost.json. Never run as a timed test.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtFile, repoRoot } from './lib/built.mjs';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { describeMachine } from './lib/machine.mjs';
import { formatTable, median, round } from './lib/stats.mjs';
import { runTunerTrials } from './lib/tuner-trials.mjs';

const options = parseOptions(process.argv.slice(2));
const LABELS = {
  renameNew: 'write + rename onto a new name',
  renameOver: 'write + rename over a file',
  truncate: 'rewrite a file in place',
  fdatasync: 'fdatasync after an append',
  fsync: 'fsync of a new small file',
};
const counts = { renameOver: 0, renameNew: 0, truncate: 0, fdatasync: 0, fsync: 0 };
let counting = false;
countFsCalls();
// Imported after the wrapping: the build's named imports from node:fs then see the counted calls.
const startRunFile = builtFile(path.join('loop', 'start-run.js'), 'bench:fs');
const { startRun } = await import(pathToFileURL(startRunFile).href);

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-fs-')));
try {
  log(`file-system costs: ${describeMachine().platform}, ${fileSystemOf(tmp)} at ${os.tmpdir()}; ${options.rounds} rounds each`);
  log(`${options.trials} tuner trials, then as many counted ...`);
  const env = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(tmp, 'worktrees') };
  const dir = createBenchProject(path.join(tmp, 'project'), { agent: 'tuner', sandbox: false });
  const plain = await runTunerTrials(startRun, { projectDir: dir, tag: 'plain', count: options.trials, env });
  counting = true;
  const counted = await runTunerTrials(startRun, { projectDir: dir, tag: 'counted', count: options.trials, env });
  counting = false;
  // After the trials: the units' thousands of writes would still be going to disk during them.
  const units = measureUnits(path.join(tmp, 'units'), options.rounds);
  // The counts include opening and closing each session: spread over its trials.
  const perTrial = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / counted.trials.length]));
  const costUs = { renameOver: units.renameOver, renameNew: units.renameNew, truncate: units.truncate, fdatasync: units.fdatasync, fsync: units.fsync };
  const share = Object.fromEntries(Object.keys(perTrial).map((k) => [k, (perTrial[k] * costUs[k]) / 1000]));
  const accounting = median(plain.trials.map((t) => t.totalMs - t.agentMs - t.runMs));
  const total = Object.values(share).reduce((a, b) => a + b, 0);
  const rows = Object.keys(perTrial).map((k) => [LABELS[k], round(costUs[k], 1), round(perTrial[k], 2), round(share[k], 2)]);
  log(`\n${formatTable(['call', 'µs each (median)', 'per trial', 'ms per trial'], rows)}`);
  log(`these calls: ${round(total, 2)} ms of a tuner trial's accounting, median ${round(accounting, 2)} ms (${round((100 * total) / accounting, 0)}%)`);
  // A commit's loose objects are fsynced at once (decisions 65): their share above is an upper bound.
  log('(a commit fsyncs its objects in parallel: their share is at most the figure above)');
  const out = {
    date: new Date().toISOString(),
    machine: describeMachine(),
    file_system: fileSystemOf(tmp),
    rounds: options.rounds,
    trials: options.trials,
    unit_cost_us: units,
    per_trial: Object.fromEntries(Object.entries(perTrial).map(([k, v]) => [k, round(v, 2)])),
    ms_per_trial: Object.fromEntries(Object.entries(share).map(([k, v]) => [k, round(v, 3)])),
    accounting_median_ms: round(accounting, 2),
  };
  fs.mkdirSync(path.join(repoRoot, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(repoRoot, 'bench', 'results', 'fs-cost.json'), `${JSON.stringify(out, null, 2)}\n`);
  log('\nwrote bench/results/fs-cost.json');
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** Wraps node:fs's calls that the bench counts; they count only while `counting`. */
function countFsCalls() {
  const { renameSync, writeFileSync, fdatasyncSync, fsyncSync, fsync, existsSync } = fs;
  fs.renameSync = function (from, to) {
    if (counting) counts[existsSync(to) ? 'renameOver' : 'renameNew']++;
    return renameSync.call(this, from, to);
  };
  fs.writeFileSync = function (file, data, options) {
    const flag = typeof options === 'object' && options !== null ? options.flag : undefined;
    if (counting && typeof file === 'string' && (flag === undefined || flag === 'w') && existsSync(file) && fs.statSync(file).size > 0) counts.truncate++;
    return writeFileSync.call(this, file, data, options);
  };
  fs.fdatasyncSync = function (fd) {
    if (counting) counts.fdatasync++;
    return fdatasyncSync.call(this, fd);
  };
  fs.fsyncSync = function (fd) {
    if (counting) counts.fsync++;
    return fsyncSync.call(this, fd);
  };
  fs.fsync = function (fd, callback) {
    if (counting) counts.fsync++;
    return fsync.call(this, fd, callback);
  };
  syncBuiltinESMExports();
}

/** Median µs of each call, alternating so that load falls on all alike. */
function measureUnits(dir, rounds) {
  fs.mkdirSync(dir, { recursive: true });
  const data = Buffer.alloc(100, 0x61);
  const samples = { renameNew: [], renameOver: [], truncate: [], fdatasync: [], fsync: [] };
  const time = (key, fn) => {
    const start = process.hrtime.bigint();
    fn();
    samples[key].push(Number(process.hrtime.bigint() - start) / 1000);
  };
  const target = path.join(dir, 'target');
  const inPlace = path.join(dir, 'in-place');
  fs.writeFileSync(target, data);
  fs.writeFileSync(inPlace, data);
  const ledger = fs.openSync(path.join(dir, 'ledger'), 'a');
  try {
    for (let i = 0; i < rounds; i++) {
      time('renameNew', () => {
        fs.writeFileSync(path.join(dir, 'temp'), data);
        fs.renameSync(path.join(dir, 'temp'), path.join(dir, `new-${i}`));
      });
      time('renameOver', () => {
        fs.writeFileSync(path.join(dir, 'temp'), data);
        fs.renameSync(path.join(dir, 'temp'), target);
      });
      time('truncate', () => fs.writeFileSync(inPlace, data));
      fs.writeSync(ledger, Buffer.alloc(200, 0x62));
      time('fdatasync', () => fs.fdatasyncSync(ledger));
      time('fsync', () => {
        const fd = fs.openSync(path.join(dir, `object-${i}`), 'wx', 0o444);
        try {
          fs.writeSync(fd, data);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      });
    }
  } finally {
    fs.closeSync(ledger);
  }
  const units = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v), 1)]));
  log(formatTable(['call', 'µs (median)'], Object.entries(units).map(([k, v]) => [LABELS[k], v])));
  return units;
}

function fileSystemOf(dir) {
  try {
    // findmnt names ext4 as such (stat -f says ext2/ext3 for all three).
    return execFileSync('findmnt', ['-n', '-o', 'FSTYPE,OPTIONS', '-T', dir], { encoding: 'utf8' }).trim().replace(/\s+/, ' (') + ')';
  } catch {
    return 'unknown';
  }
}

function parseOptions(args) {
  const parsed = { trials: 100, rounds: 300 };
  for (let i = 0; i < args.length; i++) {
    const value = Number(args[i + 1]);
    if ((args[i] === '--trials' || args[i] === '--rounds') && Number.isInteger(value) && value > 0) {
      parsed[args[i].slice(2)] = value;
      i++;
    } else {
      process.stderr.write(`unknown option ${args[i]}\nusage: node bench/fs-cost.mjs [--trials 100] [--rounds 300]\n`);
      process.exit(1);
    }
  }
  return parsed;
}

function log(line) {
  process.stderr.write(`${line}\n`);
}
