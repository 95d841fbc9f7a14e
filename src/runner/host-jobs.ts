import type { Socket } from 'node:net';
import { signalGroup } from './process-group.js';
import type { ProcessExit, StartedProcess } from './spawn-host.js';

/** What both spawn hosts share about a command in their care. */

export const hostEnded = "crucible's spawn host ended";

export function errnoError(code: string | undefined, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

/** What a host says of a command: the fields both hosts' messages share. */
export interface HostReport {
  code?: number | string | null;
  signal?: NodeJS.Signals | null;
  message?: string;
}

export interface HostJob {
  pid: number | null;
  /** One per descriptor of the request: its socket once it is in, else null. */
  stdio: (Socket | null)[];
  /** Settles the start once; anything after (a loss after the start) is dropped. */
  settleStart: (outcome: StartedProcess | NodeJS.ErrnoException) => void;
  settleExit: (exit: ProcessExit) => void;
  exit: Promise<ProcessExit>;
}

/** A job for a request of `descriptors` descriptors, whose start settles `resolve`. */
export function newHostJob(descriptors: number, resolve: (outcome: StartedProcess | NodeJS.ErrnoException) => void): HostJob {
  let settleExit: (exit: ProcessExit) => void = () => undefined;
  const exit = new Promise<ProcessExit>((done) => {
    settleExit = done;
  });
  let settled = false;
  return {
    pid: null,
    stdio: Array.from({ length: descriptors }, () => null),
    settleStart: (outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    },
    settleExit,
    exit,
  };
}

/** The host's "error": why the command could not start. */
export function startErrorOf(report: HostReport): NodeJS.ErrnoException {
  return errnoError(typeof report.code === 'string' ? report.code : undefined, report.message ?? 'cannot start');
}

/** The host's "exit": the command's status. */
export function exitOf(report: HostReport): ProcessExit {
  return { code: typeof report.code === 'number' ? report.code : null, signal: report.signal ?? null };
}

/** A job that cannot be heard any more: its group is killed, and it ends as a failure, never as a result. */
export function endLostJob(job: HostJob, why: string): void {
  if (job.pid !== null) signalGroup(job.pid, 'SIGKILL');
  for (const socket of job.stdio) socket?.destroy();
  job.settleStart(errnoError('ECRUCIBLEHOST', why));
  job.settleExit({ code: null, signal: null, lost: why });
}
