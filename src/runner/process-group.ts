import { readdirSync, readFileSync } from 'node:fs';

let ownGroupId: number | undefined;

/** This process's group: crucible's own, and its user's shell job's. */
function ownGroup(): number {
  if (ownGroupId === undefined) {
    try {
      const stat = readFileSync('/proc/self/stat', 'utf8');
      ownGroupId = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    } catch {
      ownGroupId = process.pid; // no /proc: at least never our own group when we lead it
    }
  }
  return ownGroupId;
}

/**
 * Whether `pgid` can name an experiment's group. A handle read back from the ledger, which an
 * unsandboxed experiment can rewrite, may hold anything: kill(-0) would end crucible's own group
 * (and the shell job or CI script it runs in), and kill(-1) every process the user owns.
 */
export function isSignallableGroup(pgid: number): boolean {
  return Number.isInteger(pgid) && pgid > 1 && pgid !== process.pid && pgid !== ownGroup();
}

/** Sends `signal` to every process of the group led by `pgid`; false when none is left, or `pgid` names no experiment's group. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  if (!isSignallableGroup(pgid)) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    // ESRCH: the group is empty. EPERM: a member changed user (setuid); it is not ours to kill.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}

/**
 * On Linux, whether some member of the group is still running rather than a zombie; null when
 * /proc cannot tell. Killed orphans stay zombies until init reaps them, and some containers'
 * init reaps only every second or so: without this, every timeout would wait out the full grace.
 */
function hasLiveMemberInProc(pgid: number): boolean | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after "(comm)": state ppid pgrp ...; comm itself may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

/** True while at least one process of the group is still running. */
export function isGroupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  return process.platform !== 'linux' || (hasLiveMemberInProc(pgid) ?? true);
}

/** Resolves once the group has stopped running, or at `deadline` (a performance.now() time). */
export async function waitForGroupExit(pgid: number, deadline: number, pollMs = 25): Promise<void> {
  while (isGroupAlive(pgid) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
