import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { round } from './stats.mjs';

/** What the figures were measured on; every bench result file carries it. */
export function describeMachine() {
  const cpus = os.cpus();
  let git = 'git ?';
  try {
    git = execFileSync('git', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as unknown
  }
  return { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? '?', git };
}

/** Other processes on the machine skew every figure; the load average says how much there was. */
export function loadAverage() {
  return os.loadavg().map((l) => round(l));
}

/**
 * Linux's CPU pressure (/proc/pressure/cpu): the share of time some runnable task waited for a
 * CPU, over 10 s and 60 s, in %. Unlike the load average it says how much the bench itself was
 * kept waiting. null where the kernel does not give it.
 */
export function cpuPressure() {
  try {
    const some = /^some avg10=([\d.]+) avg60=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return some ? { some_avg10: Number(some[1]), some_avg60: Number(some[2]) } : null;
  } catch {
    return null;
  }
}

/**
 * CPU time (ms) of this process's children that have ended, theirs included (Linux
 * /proc/self/stat cutime + cstime, in ticks of 10 ms): git, the agents, the experiments. null
 * elsewhere.
 */
export function childrenCpuMs() {
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(')').at(-1).trim().split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}
