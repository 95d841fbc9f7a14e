import type { TrialNode, TrialPhase } from '../store/fold-run.js';
import { formatDuration } from './format.js';
import { measureWidth, padEndToWidth, padStartToWidth } from './text-width.js';

/** A trial started and not yet recorded, as `status` shows it. */
export interface InFlightTrial {
  trial: number;
  phase: TrialPhase;
  /** The slot its experiment runs in (0 = the project folder); null before it starts. */
  slot: number | null;
  /** When it started (its `trial.start`); null when the ledger lost that event. */
  startedAt: string | null;
  /** Whole seconds from its start to `now`; null without a start. */
  elapsedSeconds: number | null;
  /** Short shas; null when unknown. */
  parent: string | null;
  base: string | null;
  remeasureOf: number | null;
  /** Its batch job (Slurm): id, state, and whole seconds it has waited in the queue (null once it runs). */
  job: { id: string; state: string; queuedSeconds: number | null } | null;
}

// A sha is hex; anything else in a hand-edited ledger (an escape sequence, say) is not printed.
const short = (sha: string | null): string | null => (sha !== null && /^[0-9a-f]{4,64}$/i.test(sha) ? sha.slice(0, 7) : null);

/** The trials in flight of a run's view, by trial number, timed against `now` (the caller's clock). */
export function describeInFlight(nodes: readonly TrialNode[], now: Date): InFlightTrial[] {
  return nodes
    .filter((node) => !node.finished && node.phase !== null)
    .sort((a, b) => a.trial - b.trial)
    .map((node) => {
      const started = node.startedAt === null ? Number.NaN : Date.parse(node.startedAt);
      return {
        trial: node.trial,
        phase: node.phase!,
        slot: node.slot,
        startedAt: node.startedAt,
        // A clock set back since the trial started reads as no time, not a negative one.
        elapsedSeconds: Number.isFinite(started) ? Math.max(0, Math.round((now.getTime() - started) / 1000)) : null,
        parent: short(node.parent),
        base: short(node.base),
        remeasureOf: node.remeasureOf,
        job: jobOf(node, now),
      };
    });
}

/**
 * The lines of `status` about trials in flight; none when there are none. `alive`: a `crucible
 * run` holds the run now; otherwise these trials were cut short and wait for the next one.
 */
export function renderInFlight(trials: readonly InFlightTrial[], alive: boolean): string[] {
  if (trials.length === 0) return [];
  const title = alive
    ? `In flight: ${trials.length}`
    : `Unfinished: ${trials.length} (no live \`crucible run\` holds this run here; the next one reconciles ${trials.length === 1 ? 'it' : 'them'})`;
  const cells = trials.map((t) => [
    String(t.trial),
    t.slot === null ? '-' : String(t.slot),
    t.phase,
    t.elapsedSeconds === null ? '-' : formatDuration(t.elapsedSeconds),
    noteOf(t),
  ]);
  const header = ['Trial', 'Slot', 'Phase', 'Elapsed', ''];
  const widths = header.map((name, i) => Math.max(measureWidth(name), ...cells.map((row) => measureWidth(row[i]!))));
  const line = (row: readonly string[]): string =>
    [padStartToWidth(row[0]!, widths[0]!), padStartToWidth(row[1]!, widths[1]!), padEndToWidth(row[2]!, widths[2]!), padEndToWidth(row[3]!, widths[3]!), row[4]!]
      .join('  ')
      .trimEnd();
  return [title, ...[header, ...cells].map((row) => `  ${line(row)}`)];
}

function jobOf(node: TrialNode, now: Date): InFlightTrial['job'] {
  if (!node.job) return null;
  const since = node.job.queuedSince === null ? Number.NaN : Date.parse(node.job.queuedSince);
  // A job id or state from a hand-edited ledger is printed only when it looks like one.
  const id = /^\d+(_\d+)?$/.test(node.job.id) ? node.job.id : '?';
  const state = /^[A-Z_]{1,32}$/.test(node.job.state) ? node.job.state : '?';
  return { id, state, queuedSeconds: Number.isFinite(since) ? Math.max(0, Math.round((now.getTime() - since) / 1000)) : null };
}

function noteOf(t: InFlightTrial): string {
  const notes: string[] = [];
  if (t.job !== null) notes.push(`job ${t.job.id} ${t.job.state}${t.job.queuedSeconds === null ? '' : `, ${formatDuration(t.job.queuedSeconds)} in queue`}`);
  if (t.remeasureOf !== null) notes.push(`re-measures trial ${t.remeasureOf}`);
  if (t.base !== null && t.parent !== null && t.base !== t.parent) notes.push(`rebased onto ${t.base}`);
  return notes.join('; ');
}

/** One entry of `status --json`'s `in_flight`. */
export interface InFlightJson {
  trial: number;
  phase: TrialPhase;
  slot: number | null;
  started_at: string | null;
  elapsed_seconds: number | null;
  parent: string | null;
  base: string | null;
  remeasure_of: number | null;
  /** Its Slurm job, when it runs as one: queued_seconds is null once the job runs. */
  job?: { id: string; state: string; queued_seconds: number | null };
}

export function inFlightJson(trials: readonly InFlightTrial[]): InFlightJson[] {
  return trials.map((t) => ({
    trial: t.trial,
    phase: t.phase,
    slot: t.slot,
    started_at: t.startedAt,
    elapsed_seconds: t.elapsedSeconds,
    parent: t.parent,
    base: t.base,
    remeasure_of: t.remeasureOf,
    ...(t.job === null ? {} : { job: { id: t.job.id, state: t.job.state, queued_seconds: t.job.queuedSeconds } }),
  }));
}
