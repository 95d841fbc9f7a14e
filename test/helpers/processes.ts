import { readFileSync } from 'node:fs';

/**
 * Whether `pid` names one process a test may signal. 0 and negative numbers name a whole process
 * group (kill(0) is the test runner's own group, and with it CI's shell: the whole run dies with
 * exit 137), and 1 is init, or every process for kill(-1). A pid file read too early (empty, or
 * not yet written) parses as 0 or NaN: such a value must never reach process.kill.
 */
export function isSinglePid(pid: number): boolean {
  return Number.isInteger(pid) && pid > 1 && pid !== process.pid;
}

/** Running and not a zombie (a killed orphan stays a zombie until something reaps it). */
export function isPidAlive(pid: number): boolean {
  if (!isSinglePid(pid)) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    // No /proc (macOS): trust kill(0). On Linux, a process whose entry is gone has exited.
    return process.platform !== 'linux';
  }
}

/**
 * One process, told apart from a later one given the same pid: its start time in clock ticks since
 * boot (/proc/<pid>/stat, field 22), '' where unknown. A busy machine recycles pids quickly
 * (pid_max is 32,768 on CI, and every node process takes a dozen for its threads), so a pid alone
 * may name another process seconds after the one a test recorded has ended.
 */
export interface ProcessId {
  pid: number;
  start: string;
}

/** The start time `/proc/<pid>/stat` gives for `pid`; '' when there is no such entry. */
export function processStartOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** isPidAlive, for that very process: false once its pid names a process started later. */
export function isProcessAlive(target: ProcessId): boolean {
  if (!isPidAlive(target.pid)) return false;
  return target.start === '' || processStartOf(target.pid) === target.start;
}

/** SIGKILLs what a test left running, skipping anything that is not one process (isSinglePid). */
export function killStrays(pids: Iterable<number>): void {
  for (const pid of pids) {
    if (!isSinglePid(pid)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already, as it should be
    }
  }
}
