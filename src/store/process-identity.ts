import { readFileSync } from 'node:fs';

/**
 * Is the process that wrote a lock still the one running under its pid? A pid alone is not
 * enough: after the holder dies (or the machine reboots) the kernel may give the same pid to an
 * unrelated process. On Linux the process start time and the boot id tell them apart.
 */

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or null off Linux. */
export function readProcessStart(pid: number): string | null {
  return readStat(pid)?.start ?? null;
}

/** This boot's id (changes at every reboot), or null off Linux. */
export function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export interface ProcessIdentity {
  pid: number;
  /** From readProcessStart when the lock was taken; absent when unknown. */
  procStart?: string | undefined;
  /** From readBootId when the lock was taken; absent when unknown. */
  bootId?: string | undefined;
}

/** True while a process of this identity runs on this machine. */
export function isProcessAlive(identity: ProcessIdentity): boolean {
  const { pid } = identity;
  // kill(0 or a negative pid) would address process groups: never a valid lock holder.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const bootId = readBootId();
  if (identity.bootId !== undefined && bootId !== null && identity.bootId !== bootId) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = readStat(pid);
  if (stat === null) return true; // no /proc: kill(pid, 0) is all we can know
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return identity.procStart === undefined || identity.procStart === stat.start;
}

function readStat(pid: number): { state: string; start: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const start = fields[19]; // field 22 overall; this list starts at field 3
  return state === undefined || start === undefined ? null : { state, start };
}
