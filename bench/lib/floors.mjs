import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, fdatasyncSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { AGENT_COMMAND, EXPERIMENT_COMMANDS } from './fixture.mjs';
import { median, round } from './stats.mjs';
import { timeCommand } from './timing.mjs';

const run = promisify(execFile);

/**
 * What the machine charges for the things a trial is made of, measured in the same run as the
 * trials: a bare Node start, one git process started the way crucible starts them (execFile from
 * this process), one fdatasync of an appended line. A trial's overhead reads best as a count of
 * these: on a loaded machine all of them grow together. Also how long one `spawn()` holds this
 * thread: the libuv of Node 20 forks on Linux (posix_spawn only on macOS), and the fork copies the page tables
 * of Node's large address space before the call returns; Python's vfork-based Popen does not.
 */
export async function measureFloors(dir, env, runs = 30) {
  const node = timeCommand(process.execPath, ['-e', '0'], { cwd: dir, env, runs: Math.min(runs, 15) });
  const git = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run('git', ['rev-parse', 'HEAD'], { cwd: dir, env });
    git.push(performance.now() - start);
  }
  const blocked = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const child = spawn('/bin/true', [], { cwd: dir, env, stdio: 'ignore', detached: true });
    blocked.push(performance.now() - start);
    await new Promise((resolve) => child.on('close', resolve));
  }
  const file = path.join(dir, '.bench-fsync');
  const fd = openSync(file, 'a');
  const syncs = [];
  try {
    for (let i = 0; i < runs; i++) {
      writeSync(fd, '{"bench":"a ledger line"}\n');
      const start = performance.now();
      fdatasyncSync(fd);
      syncs.push(performance.now() - start);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return { bare_node_ms: node.median, git_process_ms: round(median(git)), spawn_blocks_ms: round(median(blocked), 2), fdatasync_ms: round(median(syncs), 3), file_create_ms: fileCreateMs(dir, runs), ...commandsAlone(dir, env, runs) };
}

/**
 * The median time to create an empty file (O_CREAT | O_EXCL, as a lock or a temporary file is
 * made) in `dir`. On the ext4 of the machines measured it swung from 0.02 to 0.65 ms within
 * minutes (decisions 78), and a trial creates a dozen or more files, crucible's and git's alike:
 * a figure to read the others by.
 */
export function fileCreateMs(dir, runs = 30) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const file = path.join(dir, `.bench-create-${process.pid}-${i}`);
    const start = performance.now();
    closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644));
    times.push(performance.now() - start);
    unlinkSync(file);
  }
  return round(median(times), 3);
}

/**
 * A gate before each measured block: waits until creating a file costs about what it cost at its
 * best in this bench (at most twice that, or 0.02 ms over it), three probes in a row a second
 * apart (the first gate only after looking for `firstLookS`), or until `maxWaitS`. On a file
 * system without a journal (this project's VMs: ext4 with no jbd2, decisions 78), a new file
 * skips every inode of its group freed in the last minute or so,
 * and creates were seen to cost 0.013 ms in some minutes and 0.65 ms in others, after a test run
 * or a bench that deleted its projects; the ratios of trials measured then followed. Returns what
 * the last probe found and how long the gate waited, for the bench to print beside its figures.
 * With `maxWaitS` 0, one probe and no wait.
 */
export function createQuietGate(dir, { maxWaitS = 90, firstLookS = 15 } = {}) {
  let best = Infinity;
  let first = true;
  return async () => {
    const started = performance.now();
    // The first gate has no best yet: it looks for one a while before it lets anything through
    // (a bench started in the slow state took it for the best and measured its first block there).
    const lookS = first ? Math.min(firstLookS, maxWaitS) : 0;
    first = false;
    let streak = 0;
    let last;
    for (;;) {
      last = fileCreateMs(dir, 15);
      best = Math.min(best, last);
      streak = last <= Math.max(2 * best, best + 0.02) ? streak + 1 : 0;
      const waitedS = (performance.now() - started) / 1000;
      if ((streak >= 3 && waitedS >= lookS) || maxWaitS === 0 || waitedS >= maxWaitS) return { create_ms: last, waited_s: round(waitedS, 1) };
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
}

/**
 * The experiment's commands and the command agent's, each timed alone (`sh -c`, from a shell
 * that does nothing else, without a sandbox): what a trial would cost if crucible cost nothing.
 * Wall per trial less these is the measure of orchestration: it counts what crucible's
 * own spawning, sandbox, scans and records add around the commands, which its accounting
 * (totalMs − agentMs − runMs) books to the agent and the experiment.
 */
function commandsAlone(dir, env, runs) {
  const alone = (command, extraEnv = {}) => {
    // A loop in one shell: the cost of starting Node or sh for each timing is not the command's.
    const loop = `i=0; while [ $i -lt ${runs} ]; do CRUCIBLE_TRIAL=$((i + 1)) sh -c '${command.replaceAll("'", "'\\''")}' > /dev/null; i=$((i + 1)); done`;
    const start = performance.now();
    execFileSync('sh', ['-c', loop], { cwd: dir, env: { ...env, ...extraEnv }, stdio: 'ignore' });
    return round((performance.now() - start) / runs, 2);
  };
  const experiment = alone(`${EXPERIMENT_COMMANDS.run}`) + alone(EXPERIMENT_COMMANDS.eval);
  const agent = alone(AGENT_COMMAND);
  execFileSync('git', ['checkout', '-q', '--', 'params.txt'], { cwd: dir, env });
  return { experiment_alone_ms: round(experiment, 2), command_agent_alone_ms: agent };
}
