/** What `scontrol show job -o` says about one job. */
export interface JobInfo {
  state: string;
  reason: string;
  /** Epoch ms the job started running (Slurm's clock); null while it waits. */
  startTime: number | null;
}

/** One `scontrol show job -o` line (key=value pairs) read; null when it names no state. */
export function parseJobLine(line: string): JobInfo | null {
  const field = (key: string): string | null => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1] ?? null;
  const state = field('JobState');
  if (state === null) return null;
  const start = field('StartTime');
  const startMs = start && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(start) ? Date.parse(start) : Number.NaN;
  return { state, reason: field('Reason') ?? 'None', startTime: state === 'PENDING' || !Number.isFinite(startMs) ? null : startMs };
}

export type StateKind = 'waiting' | 'running' | 'ended' | 'lost-node';

// PENDING and its kin have not run anything yet; time spent there is not experiment time.
const waiting = new Set(['PENDING', 'CONFIGURING', 'REQUEUE_HOLD', 'RESV_DEL_HOLD', 'SPECIAL_EXIT', 'SUSPENDED', 'STOPPED']);
const running = new Set(['RUNNING', 'COMPLETING', 'SIGNALING', 'STAGE_OUT', 'RESIZING']);
// The job lost its node, or was taken off it: not the experiment's doing, so it is submitted again once.
const lostNode = new Set(['NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'REQUEUED', 'REQUEUE_FED']);

/** How crucible treats a Slurm state. Anything unknown counts as ended: its output decides. */
export function classifyState(state: string): StateKind {
  if (waiting.has(state)) return 'waiting';
  if (running.has(state)) return 'running';
  if (lostNode.has(state)) return 'lost-node';
  return 'ended';
}
