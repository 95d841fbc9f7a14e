import { execFile, spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
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
  return { bare_node_ms: node.median, git_process_ms: round(median(git)), spawn_blocks_ms: round(median(blocked), 2), fdatasync_ms: round(median(syncs), 3) };
}
