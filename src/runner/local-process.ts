import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { streamEnded } from './host-route.js';
import { signalGroup, waitForGroupExit } from './process-group.js';
import type { RunResult } from './types.js';

// What a local command and a local experiment share: their defaults, how their ending reads, and
// how a process group is ended and its output drained (execute.ts, sandboxed-experiment.ts).

export const defaultMaxCaptureBytes = 256 * 1024;
export const defaultMaxLogBytes = 64 * 1024 * 1024;
export const defaultKillGraceMs = 5000;
// After the command exits, how long its output pipes may stay open. Something that escaped the
// process group (setsid, a daemon) can hold them forever; the result must not wait for it.
const drainMs = 500;
// setTimeout overflows above 2^31-1 ms and would fire at once.
const maxTimerMs = 2 ** 31 - 1;

/** "1.5s", "60s": a time limit as the console shows it. */
export function formatSeconds(ms: number): string {
  return `${String(Math.round(ms) / 1000)}s`;
}

export function describeEnding(r: Pick<RunResult, 'canceled' | 'timedOut' | 'signal' | 'exitCode'>, timeoutMs: number): string {
  if (r.canceled) return 'canceled';
  if (r.timedOut) return `timed out after ${formatSeconds(timeoutMs)}`;
  if (r.signal !== null) return `killed by ${r.signal}`;
  return `exit code ${String(r.exitCode)}`;
}

export function describeSpawnError(error: NodeJS.ErrnoException, cwd: string): string {
  let cwdIsDir: boolean;
  try {
    cwdIsDir = statSync(cwd).isDirectory();
  } catch {
    cwdIsDir = false;
  }
  // Node reports a missing cwd as "spawn /bin/sh ENOENT", which blames the shell.
  if (!cwdIsDir) return `cannot start: folder ${cwd} does not exist`;
  return `cannot start: ${error.message}`;
}

// A function, not an inline check: TypeScript would keep the narrowing of an earlier check,
// but a callback (onSpawn) may abort in between.
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

const minEvalMs = 1000;

/** The eval's time limit: what the run left of the experiment's, and never under a second. */
export function evalTimeLimit(timeoutMs: number, elapsedMs: number): number {
  return Math.max(minEvalMs, timeoutMs - elapsedMs);
}

/** A timer for a time limit; undefined when there is none (0 or infinite). */
export function limitTimer(timeoutMs: number, onTimeout: () => void): NodeJS.Timeout | undefined {
  return Number.isFinite(timeoutMs) && timeoutMs > 0 ? setTimeout(onTimeout, Math.min(timeoutMs, maxTimerMs)) : undefined;
}

/**
 * How a command's process group is ended: SIGTERM at the timeout or on abort, SIGKILL after the
 * grace; once its leader has exited, the members that handle SIGTERM get what is left of their
 * grace to finish, then whatever is still in the group is killed.
 */
export class GroupEnding {
  private deadline: number | null = null;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pgid: number,
    private readonly graceMs: number,
  ) {}

  terminate(): void {
    if (this.deadline !== null) return;
    this.deadline = performance.now() + this.graceMs;
    signalGroup(this.pgid, 'SIGTERM');
    this.killTimer = setTimeout(() => signalGroup(this.pgid, 'SIGKILL'), this.graceMs);
  }

  /** After the leader's exit: the grace, then SIGKILL to anything left (a background job, a daemon). */
  async finish(): Promise<void> {
    if (this.deadline !== null) await waitForGroupExit(this.pgid, this.deadline);
    clearTimeout(this.killTimer);
    signalGroup(this.pgid, 'SIGKILL');
  }
}

/** Waits for the output streams to end, for drainMs at most (a stray may hold them), then closes them. */
export async function drainOutput(streams: readonly Readable[]): Promise<void> {
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(streams.map(streamEnded)),
    new Promise<void>((resolve) => {
      drainTimer = setTimeout(resolve, drainMs);
    }),
  ]);
  clearTimeout(drainTimer);
  for (const stream of streams) stream.destroy();
}
