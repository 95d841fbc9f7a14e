import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';

/**
 * Every command crucible starts carries a tag of its own in this variable, and so does everything
 * it starts in turn (children inherit their parent's environment). A process that left the
 * process group (setsid, a double fork, a daemon) still has it, and is found by it in /proc.
 */
export const processTagVariable = 'CRUCIBLE_PROCESS_TAG';

const maxRounds = 50;
const settleMs = 10;
// Most environments are a few KB: one reused buffer spares an fstat and an allocation per process,
// which halves the cost of a scan.
const scratch = Buffer.alloc(64 * 1024);

/**
 * Where the PID allocator of crucible's PID namespace stood (the last pid it gave), with the
 * machine's count of forks since boot and its number of tasks. Taken just before a command
 * starts, it lets the scans for that command's tag look only at the pids given since: a process
 * carrying a tag was started after the tag was drawn, and pids are handed out in turn.
 */
export interface PidMark {
  lastPid: number;
  forks: number;
  tasks: number;
}

/** Below this, pids are never reused: the allocator wraps around to it (the kernel's RESERVED_PIDS). */
const reservedPids = 300;
/** The namespace's pid_max; null where no window can be trusted (see markPids); undefined before the first mark. */
let pidMax: number | null | undefined;

/**
 * /proc/loadavg and /proc/stat, held open once read: a read at offset 0 has the kernel write
 * them afresh, and each mark (two a command) is spared an open and a close of each, which cost
 * five times the read (measured: 25 µs against 4 µs a file).
 */
let procFiles: { loadavg: number; stat: number } | undefined;

/** Both files opened, or neither (the error is the caller's). */
function openProcFiles(): { loadavg: number; stat: number } {
  const loadavg = openSync('/proc/loadavg', 'r');
  try {
    return { loadavg, stat: openSync('/proc/stat', 'r') };
  } catch (error) {
    closeSync(loadavg);
    throw error;
  }
}

/** The whole of a /proc file held open, as it is now. */
function readProcFile(fd: number, name: string): string {
  const length = readSync(fd, scratch, 0, scratch.length, 0);
  // The kernel gives such a file whole when it fits: a full buffer may have more (a machine with
  // many interrupts has a long /proc/stat).
  return length < scratch.length ? scratch.toString('latin1', 0, length) : readFileSync(name, 'latin1');
}

/** The allocator's state now; null when it cannot be read (not Linux, /proc not mounted, another namespace's /proc). */
export function markPids(): PidMark | null {
  if (process.platform !== 'linux') return null;
  try {
    // The last pid is our namespace's; the pids in /proc are those of the namespace it was
    // mounted for. Where they differ (a /proc from outside), no window: every process is read.
    if (pidMax === undefined) {
      const max = readlinkSync('/proc/self') === String(process.pid) ? Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) : null;
      pidMax = max !== null && Number.isSafeInteger(max) && max > reservedPids ? max : null;
    }
    if (pidMax === null) return null;
    procFiles ??= openProcFiles();
    // "0.10 0.20 0.30 <running>/<tasks> <last pid>": the last pid of the reader's PID namespace.
    const loadavg = /^\S+ \S+ \S+ \d+\/(\d+) (\d+)\s*$/.exec(readProcFile(procFiles.loadavg, '/proc/loadavg'));
    const forks = /^processes (\d+)$/m.exec(readProcFile(procFiles.stat, '/proc/stat'));
    if (loadavg === null || forks === null) return null;
    return { tasks: Number(loadavg[1]), lastPid: Number(loadavg[2]), forks: Number(forks[1]) };
  } catch {
    pidMax = null;
    return null;
  }
}

/**
 * Whether `pid` may have been given since `since`, as far as `now` tells; true for every pid when
 * the two marks cannot bound it. The pids given in between lie after since.lastPid and up to
 * now.lastPid, around the wrap, unless the allocator went all the way round: each pid it passes
 * is one it gave (a fork, counted by the machine's counter) or one in use (a task alive at
 * `since`, or one forked since), so it cannot come round while twice the forks and the tasks
 * alive at `since` are fewer than the pids it cycles through.
 */
export function givenSince(since: PidMark, now: PidMark, max: number): (pid: number) => boolean {
  const forks = now.forks - since.forks;
  // A counter that went back, or stood still while pids were given, is not the machine's: no bound.
  if (forks < 0 || (forks === 0 && now.lastPid !== since.lastPid) || 2 * forks + since.tasks >= max - reservedPids) return () => true;
  if (since.lastPid <= now.lastPid) return (pid) => pid > since.lastPid && pid <= now.lastPid;
  return (pid) => pid > since.lastPid || pid <= now.lastPid;
}

/** 128 random bits: no process can guess another command's tag, so none can borrow one. */
export function newProcessTag(): string {
  return randomBytes(16).toString('hex');
}

/** The environment a process was started with; null when it cannot be read (another user's, gone). */
function readEnviron(pid: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/environ`, 'r');
  } catch {
    return null;
  }
  try {
    const length = readSync(fd, scratch, 0, scratch.length, null);
    return length < scratch.length ? scratch.subarray(0, length) : readFileSync(`/proc/${pid}/environ`);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function holdsVariable(environ: Buffer, entry: Buffer): boolean {
  // Entries are NUL-separated: a match must fill one whole entry, not the tail of another's value.
  for (let at = environ.indexOf(entry); at !== -1; at = environ.indexOf(entry, at + 1)) {
    const end = at + entry.length;
    if ((at === 0 || environ[at - 1] === 0) && (end === environ.length || environ[end] === 0)) return true;
  }
  return false;
}

/**
 * The live processes whose environment holds `tag` (Linux only; [] elsewhere). Only processes
 * whose /proc/<pid>/environ is readable can be found: those of crucible's user (root: all) that
 * did not change user. A zombie's environ reads empty: the dead are not found.
 *
 * With `since`, the mark taken before the tag's command started, only the pids given since are
 * read (see givenSince): a scan then costs about the processes that command started, not every
 * process on the machine; when they are few, they are read by number, without /proc's list.
 * With `leader` too, the pid of the command itself, which has exited: none is read when that was
 * the only process started since (onlyLeaderSince).
 */
export function findTaggedProcesses(tag: string, since: PidMark | null = null, leader?: number): number[] {
  if (process.platform !== 'linux') return [];
  const now = since === null ? null : markPids();
  const max = pidMax;
  const bounded = since !== null && now !== null && typeof max === 'number';
  // One process started since the mark, anywhere on the machine, and it was the command's leader
  // (gone by now): nothing else can carry the tag.
  if (bounded && leader !== undefined && onlyLeaderSince(since, now, leader)) return [];
  const entry = Buffer.from(`${processTagVariable}=${tag}`);
  const tagged = (pid: number): boolean => {
    const environ = readEnviron(String(pid));
    return environ !== null && holdsVariable(environ, entry);
  };
  // A few pids given since the mark are read one by one; /proc's whole list only when the window is wide.
  const few = bounded ? fewPidsSince(since, now, max) : null;
  if (few !== null) {
    const found = new Set<number>();
    for (const pid of few) {
      if (pid === process.pid || !tagged(pid)) continue;
      // A pid read this way may be a thread's: its process is the one to stop.
      const group = threadGroupOf(pid);
      if (group !== null && group !== process.pid) found.add(group);
    }
    return [...found];
  }
  const candidate = bounded ? givenSince(since, now, max) : () => true;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || !candidate(pid)) continue;
    if (tagged(pid)) found.push(pid);
  }
  return found;
}

/**
 * Whether the one process the machine started between `since` and `now` was `leader`: a single
 * fork counted (every process and thread the kernel makes is one), and the last pid given is its.
 */
export function onlyLeaderSince(since: PidMark, now: PidMark, leader: number): boolean {
  return now.forks - since.forks === 1 && now.lastPid === leader && since.lastPid !== leader;
}

/** Probed one by one below this many pids; /proc's list above it. */
const maxProbedPids = 64;

/**
 * The pids given between `since` and `now` when they are few and did not wrap around (see
 * givenSince for when the marks bound them); null when /proc's list must be read instead.
 */
export function fewPidsSince(since: PidMark, now: PidMark, max: number): number[] | null {
  const forks = now.forks - since.forks;
  if (forks < 0 || (forks === 0 && now.lastPid !== since.lastPid) || 2 * forks + since.tasks >= max - reservedPids) return null;
  if (now.lastPid < since.lastPid || now.lastPid - since.lastPid > maxProbedPids) return null;
  const pids: number[] = [];
  for (let pid = since.lastPid + 1; pid <= now.lastPid; pid += 1) pids.push(pid);
  return pids;
}

/** The process (thread group) that task `pid` belongs to; null when it is gone. */
function threadGroupOf(pid: number): number | null {
  try {
    const group = /^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return group === null ? pid : Number(group[1]);
  } catch {
    return null;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: gone already. EPERM: it changed user (setuid); not ours to stop.
  }
}

/**
 * SIGKILLs every process that carries `tag`, and returns how many were found. They are stopped
 * first, round after round until a scan finds no new one, so that a process forking in a loop
 * cannot outrun the scans; then all are killed, and scans repeat until one finds none. Both
 * loops are bounded. Not found, and so not killed: a process that cleared its environment at an
 * exec (`env -i`), or overwrote it in memory; and one that changed user. `since`: as for
 * findTaggedProcesses.
 */
export async function killTaggedProcesses(tag: string, since: PidMark | null = null, leader?: number): Promise<number> {
  const stopped = new Set<number>();
  for (let round = 0; round < maxRounds; round += 1) {
    const fresh = findTaggedProcesses(tag, since, leader).filter((pid) => !stopped.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      signal(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  }
  if (stopped.size === 0) return 0;
  for (const pid of stopped) signal(pid, 'SIGKILL');
  for (let round = 0; round < maxRounds; round += 1) {
    // A killed process keeps its environment until its memory is released: give it a moment.
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const left = findTaggedProcesses(tag, since, leader);
    if (left.length === 0) break;
    for (const pid of left) {
      signal(pid, 'SIGKILL');
      stopped.add(pid);
    }
  }
  return stopped.size;
}
