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
  /** How many of them were kept. */
  kept: number;
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
 * The last walk over a history, kept by the tuner between its proposals. When the next history is
 * the last one with trials appended, and the walk over the new trials ends where the last walk
 * began, only the new trials are walked (a run of thousands of trials walked them all at each
 * proposal).
 */
export class HistoryMemo {
  state: WalkState | null = null;
}

interface WalkState {
  /** The constants' names in order: a marker added or removed starts over. */
  names: string;
  /** The history walked, ordered by trial. */
  views: TrialView[];
  /** The values the walk started from (the files' values then). */
  start: number[];
  /** Where it ended: the values before the oldest tuner trial. */
  end: number[];
  trials: PastTrial[];
  kept: number;
  /** Oldest first, the baseline's aside. */
  points: MeasuredPoint[];
  tried: Set<string>;
  /** The first baseline of the history walked, and whether a trial not the tuner's was kept. */
  baseline: TrialView | undefined;
  foreignKeep: boolean;
  /** The baseline's point, once handed out. */
  baselinePoint: MeasuredPoint | undefined;
}

/**
 * Rebuilds the tuner's memory from descriptions. The files hold the values of the best kept
 * state, so the walk goes backwards from them: before a kept trial, its constants held their
 * "from" values. A description's "from" values are trusted over the walk, which keeps it right
 * when another agent's kept change moved a constant without saying so. With `memo`, a walk that
 * would repeat the last one's steps takes them from it (the same memory, tested against the
 * whole walk).
 */
export function readHistory(params: readonly TunedParam[], history: readonly TrialView[], memo?: HistoryMemo): TuningMemory {
  const position = new Map(params.map((p, i) => [p.name, i]));
  const names = params.map((p) => p.name).join('\0');
  const current = params.map((p) => p.value);
  // With trials in flight, results arrive in any order; replaying them by trial number makes the
  // memory the same whatever the order, and the same again when a resumed run reads the ledger.
  // The loop hands the history over in trial order already: then it is copied, not sorted.
  const ordered = inTrialOrder(history) ? history.slice() : [...history].sort((a, b) => a.trial - b.trial);
  let state = memo?.state ?? null;
  const extended = state !== null && state.names === names && startsWith(ordered, state.views) ? walk(ordered, state.views.length, current, position) : null;
  if (state !== null && extended !== null && sameValues(extended.end, state.start)) {
    state.trials.push(...extended.trials.reverse());
    state.kept += extended.kept;
    state.points.push(...extended.points.reverse());
    state.tried.add(valuesKey(current));
    for (const key of extended.keys) state.tried.add(key);
    state.baseline ??= extended.baseline;
    state.foreignKeep ||= extended.foreignKeep;
    state.views = ordered;
    state.start = current;
  } else {
    const whole = walk(ordered, 0, current, position);
    state = {
      names,
      views: ordered,
      start: current,
      end: whole.end,
      trials: whole.trials.reverse(),
      kept: whole.kept,
      points: whole.points.reverse(),
      tried: new Set([valuesKey(current), ...whole.keys]),
      baseline: whole.baseline,
      foreignKeep: whole.foreignKeep,
      baselinePoint: undefined,
    };
  }
  if (memo !== undefined) memo.state = state;
  // Another agent's kept changes are not replayed, so the walk's start is the baseline's values
  // only when every kept trial was the tuner's.
  // The baseline's point is made once per walk: neither the baseline nor where the walk ended
  // changes while the walk is only extended, and the global model knows its points by identity.
  const { baseline } = state;
  let points: MeasuredPoint[];
  if (baseline !== undefined && baseline.metric !== null && !state.foreignKeep) {
    state.baselinePoint ??= { trial: baseline.trial, values: asMap(params, state.end), outcome: 'baseline', metric: baseline.metric };
    points = [state.baselinePoint].concat(state.points);
  } else points = state.points.slice();
  return { trials: state.trials.slice(), kept: state.kept, points, tried: state.tried };
}

function inTrialOrder(history: readonly TrialView[]): boolean {
  for (let i = 1; i < history.length; i++) if (history[i - 1]!.trial > history[i]!.trial) return false;
  return true;
}

/**
 * Walks `ordered` from its newest view back to index `from`, starting at `start`: the tuner
 * trials newest first, their points, the keys of every combination met, and where it ended.
 * Values are arrays in the order of the constants (a key is their join, as `vectorKey`'s).
 */
function walk(ordered: readonly TrialView[], from: number, start: readonly number[], position: ReadonlyMap<string, number>) {
  const trials: PastTrial[] = [];
  const points: MeasuredPoint[] = [];
  const keys: string[] = [];
  const names = [...position.keys()];
  let after = start.slice();
  let kept = 0;
  let baseline: TrialView | undefined;
  let foreignKeep = false;
  for (let i = ordered.length - 1; i >= from; i--) {
    const view = ordered[i]!;
    if (view.outcome === 'baseline') baseline = view;
    // Written against an older best and never measured: it says nothing about its values, and
    // its "from" values describe a state the files are no longer in.
    if (view.outcome === 'stale') continue;
    const parsed = parsedDescription(view.description);
    const changes = (parsed ?? []).filter((c) => position.has(c.name));
    if (changes.length === 0) {
      // A kept trial that changed none of the constants: another agent's (or its constants are gone).
      if (view.outcome === 'keep') foreignKeep = true;
      continue;
    }
    const before = after.slice();
    for (const c of changes) before[position.get(c.name)!] = c.from;
    const attempted = before.slice();
    for (const c of changes) attempted[position.get(c.name)!] = c.to;
    if (TABU.has(view.outcome)) keys.push(valuesKey(attempted));
    if (MODELLED.has(view.outcome)) points.push({ trial: view.trial, values: new Map(names.map((name, d) => [name, attempted[d]!])), outcome: view.outcome, metric: view.metric });
    keys.push(valuesKey(before));
    trials.push({ trial: view.trial, outcome: view.outcome, metric: view.metric, changes });
    if (view.outcome === 'keep') kept++;
    after = before;
  }
  return { trials, kept, points, keys, end: after, baseline, foreignKeep };
}

const valuesKey = (values: readonly number[]) => values.map(String).join('|');

const asMap = (params: readonly TunedParam[], values: readonly number[]) => new Map(params.map((p, i) => [p.name, values[i]!]));

const sameValues = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

/** Whether `ordered` begins with exactly the views of `prefix` (what the memory depends on). */
function startsWith(ordered: readonly TrialView[], prefix: readonly TrialView[]): boolean {
  if (prefix.length > ordered.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const a = ordered[i]!;
    const b = prefix[i]!;
    if (a === b) continue;
    if (a.trial !== b.trial || a.outcome !== b.outcome || a.metric !== b.metric || a.description !== b.description) return false;
  }
  return true;
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
