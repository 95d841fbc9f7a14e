// harness/cpu-clock.js: CPU time of one thread, from Linux's /proc. Budgets are CPU time, not
// wall time, so a busy machine neither shortens training nor loses games on time. Where /proc
// is missing (macOS, Windows) the harness falls back to wall time.
import { readFileSync, readlinkSync } from 'node:fs';

const readFile = readFileSync;
const perfNow = performance.now.bind(performance);
// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every common platform.
const MS_PER_TICK = 10;

function ticksOf(statText) {
  // The thread name may hold spaces or brackets: the fields we need follow the last ')'.
  const fields = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/** The calling thread's id, or null where /proc/thread-self does not exist. */
export function currentThreadId() {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').pop());
    readFile('/proc/thread-self/stat', 'utf8');
    return Number.isInteger(id) ? id : null;
  } catch {
    return null;
  }
}

/** Milliseconds of CPU the thread `tid` of this process has used (wall time when tid is null). */
export function threadCpuMs(tid) {
  if (tid === null) return perfNow();
  return ticksOf(readFile(`/proc/${process.pid}/task/${tid}/stat`, 'utf8')) * MS_PER_TICK;
}

/** The calling thread's CPU milliseconds (wall time where /proc/thread-self is missing). */
export function ownCpuMs(hasProc) {
  if (!hasProc) return perfNow();
  return ticksOf(readFile('/proc/thread-self/stat', 'utf8')) * MS_PER_TICK;
}
