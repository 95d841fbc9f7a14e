import type { Socket } from 'node:net';
import { signalGroup } from './process-group.js';
import type { ProcessExit, StartedProcess } from './spawn-host.js';

/** What both spawn hosts share about a command in their care. */

export const hostEnded = "crucible's spawn host ended";

export function errnoError(code: string | undefined, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

export interface HostJob {
  pid: number | null;
  stdio: readonly (Socket | null)[];
  settleStart: (outcome: StartedProcess | NodeJS.ErrnoException) => void;
  settleExit: (exit: ProcessExit) => void;
}

/** A job that cannot be heard any more: its group is killed, and it ends as a failure, never as a result. */
export function endLostJob(job: HostJob, why: string): void {
  if (job.pid !== null) signalGroup(job.pid, 'SIGKILL');
  for (const socket of job.stdio) socket?.destroy();
  job.settleStart(errnoError('ECRUCIBLEHOST', why));
  job.settleExit({ code: null, signal: null, lost: why });
}
