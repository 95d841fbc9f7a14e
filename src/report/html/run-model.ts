import { noiseBand } from '../../core/noise-floor.js';
import type { Direction } from '../../core/objective.js';
import type { Outcome } from '../../core/outcome.js';
import type { RunView, TrialNode, TrialPhase } from '../../store/fold-run.js';
import type { ResultRow } from '../../store/result-row.js';
import { rowsOfView } from '../../store/result-row-of.js';
import { summarizeRun, type RunSummary } from '../summary.js';

/**
 * One trial as the page draws it. Short keys: a 10,000-trial run is sent whole to the browser
 * (and embedded whole in a report), so every byte counts ten thousand times.
 */
export interface TrialModel {
  n: number;
  /** null while in flight. */
  o: Outcome | null;
  /** The phase of a trial in flight; null once finished. */
  ph: TrialPhase | null;
  m: number | null;
  d: string;
  /** The trial whose commit this one's change sits on (its base); null when none is known. */
  from: number | null;
  slot: number | null;
  cost: number | null;
  /** [input, output, cache read, cache write] tokens; null when the backend does not report them. */
  tok: [number, number, number, number] | null;
  agentMs: number;
  runMs: number;
  totalMs: number;
  start: string | null;
  end: string | null;
  re: number | null;
}

/** Everything the page shows of one run: the same for the live dashboard and the HTML report. */
export interface RunModel {
  tag: string;
  metric: { name: string; direction: Direction };
  summary: RunSummary;
  /** The trial the run branch points at; null before one is measured. */
  incumbent: number | null;
  /** `crucible run` holds the run right now (always false in a report). */
  live: boolean;
  trials: TrialModel[];
  /** The noise floor (the baseline's repeated runs): `band` = 1.96·√2·sd, the gap two runs of the same code stay within. */
  noise: { sd: number; band: number } | null;
}

/** A run's view as the page's data: pure, so the dashboard and the report cannot disagree. */
export function buildRunModel(tag: string, view: RunView, metric: { name: string; direction: Direction }, live = false): RunModel {
  const trialOfCommit = new Map<string, number>();
  for (const node of view.trials) if (node.commit !== '' && !trialOfCommit.has(node.commit)) trialOfCommit.set(node.commit, node.trial);
  const rows = rowsOfView(tag, view);
  return {
    tag,
    metric,
    summary: summarizeRun(rows, metric.direction),
    incumbent: view.incumbent?.trial ?? null,
    live,
    trials: view.trials.map((node) => trialModel(node, trialOfCommit)),
    noise: view.noise && view.noise.sd > 0 ? { sd: view.noise.sd, band: noiseBand(view.noise) } : null,
  };
}

function trialModel(node: TrialNode, trialOfCommit: ReadonlyMap<string, number>): TrialModel {
  const base = node.base ?? node.parent;
  const from = base === null ? null : (trialOfCommit.get(base) ?? null);
  const usage = node.usage;
  return {
    n: node.trial,
    o: node.outcome,
    ph: node.phase,
    m: node.metric,
    d: node.description,
    from: from === node.trial ? null : from,
    slot: node.slot,
    cost: node.costUsd,
    tok: usage ? [usage.inputTokens, usage.outputTokens, usage.cacheReadTokens, usage.cacheWriteTokens] : null,
    agentMs: node.agentMs,
    runMs: node.runMs,
    totalMs: node.totalMs,
    start: node.startedAt,
    end: node.endedAt,
    re: node.remeasureOf,
  };
}

/**
 * A run recorded only in results.tsv (by the reference tool, or whose folder was deleted): its
 * rows are all there is, so nothing is in flight and the tree is the short shas the rows name.
 */
export function buildRunModelFromRows(tag: string, rows: readonly ResultRow[], metric: { name: string; direction: Direction }): RunModel {
  const trialOfCommit = new Map<string, number>();
  for (const row of rows) if (row.commit !== '' && !trialOfCommit.has(row.commit)) trialOfCommit.set(row.commit, row.trial);
  const ms = (seconds: number | null): number => Math.round((seconds ?? 0) * 1000);
  const trials = [...rows]
    .sort((a, b) => a.trial - b.trial)
    .map((row): TrialModel => {
      const base = row.base ?? row.parent;
      const from = base === undefined ? null : (trialOfCommit.get(base) ?? null);
      const tok = row.inputTokens == null ? null : ([row.inputTokens, row.outputTokens ?? 0, row.cacheReadTokens ?? 0, row.cacheWriteTokens ?? 0] as TrialModel['tok']);
      return { n: row.trial, o: row.status, ph: null, m: row.metric, d: row.description, from: from === row.trial ? null : from, slot: row.slot ?? null, cost: row.costUsd, tok, agentMs: ms(row.agentSeconds), runMs: ms(row.runSeconds), totalMs: ms(row.totalSeconds), start: null, end: row.timestamp || null, re: row.remeasureOf ?? null };
    });
  const summary = summarizeRun(rows, metric.direction);
  return { tag, metric, summary, incumbent: summary.best?.trial ?? null, live: false, trials, noise: null };
}
