/**
 * What the run's history says about the marked constants: which trials were the tuner's, what
 * each changed, and every combination of values already measured (so none is proposed twice).
 */
import type { TrialView } from '../types.js';
import type { Outcome } from '../../core/outcome.js';
import type { TunedParam } from './types.js';
import { parseDescription, type DescribedChange } from './description.js';

export interface PastTrial {
  trial: number;
  outcome: Outcome;
  metric: number | null;
  /** The changes to constants that still exist (a marker the user removed is forgotten). */
  changes: DescribedChange[];
}

/** A combination of values the run measured (or tried to), with what came of it. */
export interface MeasuredPoint {
  trial: number;
  values: Map<string, number>;
  outcome: Outcome;
  metric: number | null;
}

export interface TuningMemory {
  /** The tuner's trials, oldest first. */
  trials: PastTrial[];
  /**
   * The baseline's values (when the history has its metric) and every tuner trial's attempted
   * values that were measured or crashed, oldest first: what the global search models.
   */
  points: MeasuredPoint[];
  /** Keys (see `vectorKey`) of the value combinations already measured or refused. */
  tried: Set<string>;
}

// Outcomes whose values must not be proposed again: measured, crashed or refused by the guard.
const TABU: ReadonlySet<Outcome> = new Set<Outcome>(['keep', 'discard', 'crash', 'violation']);

// Outcomes that say something about the values themselves (a violation or a skip does not).
const MODELLED: ReadonlySet<Outcome> = new Set<Outcome>(['keep', 'discard', 'crash']);

/**
 * Rebuilds the tuner's memory from descriptions. The files hold the values of the best kept
 * state, so the walk goes backwards from them: before a kept trial, its constants held their
 * "from" values. A description's "from" values are trusted over the walk, which keeps it right
 * when another agent's kept change moved a constant without saying so.
 */
export function readHistory(params: readonly TunedParam[], history: readonly TrialView[]): TuningMemory {
  const position = new Map(params.map((p, i) => [p.name, i]));
  const trials: PastTrial[] = [];
  const points: MeasuredPoint[] = [];
  const tried = new Set<string>();
  // The walk holds values as arrays in the order of `params` (a key is their join, as
  // `vectorKey`'s): a run of thousands of trials walks them all at every proposal.
  const key = (values: readonly number[]) => values.map(String).join('|');
  const asMap = (values: readonly number[]) => new Map(params.map((p, i) => [p.name, values[i]!]));
  let after = params.map((p) => p.value);
  tried.add(key(after));
  // With trials in flight, results arrive in any order; replaying them by trial number makes the
  // memory the same whatever the order, and the same again when a resumed run reads the ledger.
  const ordered = [...history].sort((a, b) => a.trial - b.trial);
  for (let i = ordered.length - 1; i >= 0; i--) {
    const view = ordered[i]!;
    // Written against an older best and never measured: it says nothing about its values, and
    // its "from" values describe a state the files are no longer in.
    if (view.outcome === 'stale') continue;
    const parsed = parsedDescription(view.description);
    const changes = (parsed ?? []).filter((c) => position.has(c.name));
    if (changes.length === 0) continue;
    const before = after.slice();
    for (const c of changes) before[position.get(c.name)!] = c.from;
    const attempted = before.slice();
    for (const c of changes) attempted[position.get(c.name)!] = c.to;
    if (TABU.has(view.outcome)) tried.add(key(attempted));
    if (MODELLED.has(view.outcome)) points.push({ trial: view.trial, values: asMap(attempted), outcome: view.outcome, metric: view.metric });
    tried.add(key(before));
    trials.push({ trial: view.trial, outcome: view.outcome, metric: view.metric, changes });
    after = before;
  }
  trials.reverse();
  // Another agent's kept changes are not replayed, so the walk's start is the baseline's values
  // only when every kept trial was the tuner's.
  const baseline = ordered.find((v) => v.outcome === 'baseline');
  const tunerTrials = new Set(trials.map((t) => t.trial));
  const foreignKeep = ordered.some((v) => v.outcome === 'keep' && !tunerTrials.has(v.trial));
  if (baseline !== undefined && baseline.metric !== null && !foreignKeep) {
    points.push({ trial: baseline.trial, values: asMap(after), outcome: 'baseline', metric: baseline.metric });
  }
  points.reverse();
  return { trials, points, tried };
}

/**
 * `parseDescription`, remembered: the memory is rebuilt from the whole history at every proposal,
 * and parsing every description again was most of that once a run had thousands of trials. The
 * result is shared: never changed by its readers.
 */
function parsedDescription(description: string): readonly DescribedChange[] | null {
  let parsed = parsedDescriptions.get(description);
  if (parsed === undefined) {
    parsed = parseDescription(description);
    if (parsedDescriptions.size >= MAX_PARSED_DESCRIPTIONS) parsedDescriptions.clear();
    parsedDescriptions.set(description, parsed);
  }
  return parsed;
}

const parsedDescriptions = new Map<string, readonly DescribedChange[] | null>();
const MAX_PARSED_DESCRIPTIONS = 50_000;

/** A combination of values as one comparable string, in the order of `params`. */
export function vectorKey(params: readonly TunedParam[], values: ReadonlyMap<string, number>): string {
  return params.map((p) => String(values.get(p.name) ?? p.value)).join('|');
}
