/**
 * The tuner's search, as a pure function of the marked constants, the run's history and a seeded
 * random source. It is a (1+1) evolution strategy / pattern search in the normalised space:
 * each trial moves one constant (sometimes a few) by ±step from the best kept values. A kept
 * move sets that constant's direction and widens its step; a failed move turns it around; once
 * both directions failed the step halves (the 1/5-rule idea: the step follows the success rate).
 * Constants whose moves helped recently are picked more often. Combinations already measured
 * are never proposed again, nor ones being measured now (proposals in flight), from which the
 * next proposal spreads away: the other direction, another constant, another step size.
 * Off the local path: a TPE step after trials without a keep (global.ts), and a jump to a
 * space-filling point when ties say the landscape is flat here (explore.ts).
 */
import type { TrialView } from '../types.js';
import type { Direction as Objective } from '../../core/objective.js';
import type { TunedParam, TuningChange } from './types.js';
import type { Rng } from './rng.js';
import { hashSeed } from './rng.js';
import { HistoryMemo, readHistory, vectorKey, type PastTrial, type TuningMemory } from './history.js';
import type { DescribedChange } from './description.js';
import { readPending, type PendingMoves, type PendingPoints } from './pending.js';
import { writtenChange } from './literal.js';
import { clampUnit, fromUnit, toUnit } from './space.js';
import { ModelMemo, proposeGlobal } from './global.js';
import { goesOn } from '../../core/appended-list.js';
import { JumpMemo, jumpOdds, PlateauMemo, proposeJump, readPlateau } from './explore.js';

export interface TuningOptions {
  /** Most constants changed in one trial (at least 1). */
  maxChanges: number;
  /** Seeds each constant's first direction, so it does not depend on any one trial's draws. */
  seed: number;
  /**
   * The changes of the proposals in flight (handed out, result not back yet): their points are
   * never proposed again, and the next move spreads away from them. Empty or absent: the
   * proposal is exactly the serial one.
   */
  pending?: readonly (readonly DescribedChange[])[];
  /** Which way is better; absent: read from the history's keeps (minimize when none says). */
  direction?: Objective;
  /** What the last proposal read from the history, extended rather than redone (the tuner keeps one). */
  memo?: TuningMemo;
}

/**
 * What the tuner keeps between its proposals: its walk over the history, and the steps and
 * directions it learned from the trials walked. Both are extended by the trials appended since,
 * so a proposal at trial 10,000 does not replay the 9,999 before it.
 */
export class TuningMemo {
  readonly history = new HistoryMemo();
  readonly model = new ModelMemo();
  readonly plateau = new PlateauMemo();
  readonly jump = new JumpMemo();
  learned: Learned | null = null;
  moves: MoveIndex | null = null;
}

/** The tuner's past trials by each of their moves (see moveKey), extended as the memory grows. */
interface MoveIndex {
  trials: readonly PastTrial[];
  byMove: Map<string, PastTrial[]>;
}

interface Learned {
  /** The seed and the constants' names and ranges: what the replay began from, with `start`. */
  key: string;
  /** The baseline's metric when the model has it, the incumbent the replay starts at. */
  start: number | null;
  /** The trials replayed, oldest first (the memory's own objects: a rebuilt walk starts over). */
  trials: readonly PastTrial[];
  states: Map<string, ParamState>;
  incumbent: number | null;
}

export interface TuningProposal {
  /** In the order the constants appear; empty when no untried combination was found. */
  changes: TuningChange[];
  /** Why, one line each: what was learned and why each constant moves the way it does. */
  notes: string[];
}

type Direction = 1 | -1;

interface ParamState {
  step: number;
  dir: Direction;
  lastGood: Direction | null;
  /** Directions that failed since the last kept change. */
  failed: Set<Direction>;
  /** Recent kept changes of this constant, decaying with every trial. */
  credit: number;
}

const INITIAL_STEP = 0.25;
const MAX_STEP = 0.5;
const MIN_STEP = 0.002;
const SINGLE_CHANGE_ODDS = 0.7;
const ATTEMPTS_PER_SCALE = 8;
// Local draws at steps ×1, ×½, ×¼, ×⅛, then wider and wider draws before giving up.
const SCALES = [1, 0.5, 0.25, 0.125, 2, 4, 8, 16];

export function proposeTuning(
  params: readonly TunedParam[],
  history: readonly TrialView[],
  rng: Rng,
  options: TuningOptions,
): TuningProposal {
  const memory = readHistory(params, history, options.memo?.history);
  const states = learnFromHistory(params, memory, options.seed, options.memo);
  const pending = readPending(params, options.pending ?? []);
  const notes = [`learned from ${memory.trials.length} earlier tuner trial(s), ${memory.kept} kept`];
  if (pending.count > 0) notes.push(`${pending.count} proposal(s) being measured now: their points are avoided`);
  const current = new Map(params.map((p) => [p.name, p.value]));
  const direction = options.direction ?? inferDirection(history);
  // With trials in flight a change is measured on whatever incumbent it meets (rebased): each past
  // trial's changes on top of today's values may have been measured already, so they are avoided too.
  // A serial run never rebases: its proposals stay as they were. Asked, not built: a set of every
  // past trial rebased cost a map per trial at each proposal, 7 ms by trial 3,000.
  const rebased = pending.count > 0 ? rebasedPoints(params, indexMoves(memory, options.memo)) : null;
  // Asked, not copied: the memory's tried combinations are two a trial, and a copy of them at
  // every proposal grew with the run.
  const avoid = { has: (key: string) => memory.tried.has(key) || pending.keys.has(key) || (rebased?.has(key) ?? false) };
  const global = (exploration: number) =>
    proposeGlobal({ params, points: memory.points, avoid, pending: pending.values, direction, maxChanges: options.maxChanges, exploration, memo: options.memo?.model }, rng);

  // Ties at the incumbent's value, more of them than measured differences: flat here, so jump
  // rather than creep (explore.ts). Without that no draw is made: the search is exactly as before.
  const plateau = readPlateau(memory, history.find((v) => v.outcome === 'baseline')?.metric ?? null, options.memo?.plateau);
  const odds = jumpOdds(plateau);
  if (odds > 0 && rng() < odds) {
    const jump = proposeJump({ params, points: memory.points, avoid, pending: pending.values, maxChanges: options.maxChanges, memo: options.memo?.jump }, rng);
    if (jump !== null) {
      notes.push(`${plateau.ties} of ${plateau.stale} trial(s) since the last keep tied it exactly: flat here, ${jump.why}`);
      return { changes: jump.changes, notes: [...notes, ...jump.changes.map((c) => `${c.name}: ${c.fromText} → ${c.toText}`)] };
    }
  }

  // A plateau: the last few local moves all failed or tied. Half the time (more, the longer it
  // lasts) the next point comes from the global search instead, far from the best if need be.
  const stale = plateau.stale;
  if (stale >= PLATEAU && rng() < (stale >= 2 * PLATEAU ? 0.75 : 0.5)) {
    const jump = global(Math.min(1, stale / (4 * PLATEAU)));
    if (jump !== null) {
      notes.push(`${stale} trial(s) without a keep: a global step`);
      return { changes: jump.changes, notes: [...notes, jump.why, ...jump.changes.map((c) => `${c.name}: ${c.fromText} → ${c.toText}`)] };
    }
  }

  for (let attempt = 0; attempt < SCALES.length * ATTEMPTS_PER_SCALE; attempt++) {
    const scale = SCALES[Math.floor(attempt / ATTEMPTS_PER_SCALE)]!;
    const chosen = chooseParams(params, states, pending, rng, options.maxChanges);
    const changes: TuningChange[] = [];
    const reasons: string[] = [];
    for (const param of chosen) {
      const state = states.get(param.name)!;
      const moved = moveParam(param, state, pending.moves.get(param.name), scale, rng);
      if (moved === null) continue;
      changes.push(moved.change);
      reasons.push(`${param.name}: ${moved.change.fromText} → ${moved.change.toText} (${moved.why})`);
    }
    if (changes.length === 0) continue;
    const values = new Map(current);
    for (const c of changes) values.set(c.name, c.to);
    const key = vectorKey(params, values);
    if (avoid.has(key)) continue;
    if (attempt >= ATTEMPTS_PER_SCALE) notes.push(`nearby values were already tried: step scaled by ${scale}`);
    const order = new Map(params.map((p, i) => [p.name, i]));
    changes.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
    return { changes, notes: [...notes, ...reasons] };
  }
  const jump = global(1);
  if (jump !== null) {
    notes.push('every combination near the best values has been tried: a global step');
    return { changes: jump.changes, notes: [...notes, jump.why] };
  }
  notes.push('every combination near the best values has been tried');
  return { changes: [], notes };
}

const PLATEAU = 3;

/** Which way the history's keeps went from the baseline; minimize when nothing says. */
function inferDirection(history: readonly TrialView[]): Objective {
  const baseline = history.find((v) => v.outcome === 'baseline')?.metric ?? null;
  const kept = history.find((v) => v.outcome === 'keep' && v.metric !== null && baseline !== null && v.metric !== baseline);
  return kept !== undefined && kept.metric! > baseline! ? 'maximize' : 'minimize';
}

/**
 * Replays the tuner's past trials, oldest first, into a step and direction per constant. With
 * `memo`, a memory that extends the last one replays only the trials it adds: the replay is a fold,
 * so going on from where it stopped gives exactly the states a whole replay would.
 */
function learnFromHistory(params: readonly TunedParam[], memory: TuningMemory, seed: number, memo?: TuningMemo): Map<string, ParamState> {
  const key = JSON.stringify([seed, params.map((p) => [p.name, p.low, p.high, p.log])]);
  const start = memory.points.find((p) => p.outcome === 'baseline')?.metric ?? null;
  const last = memo?.learned ?? null;
  const learned =
    last !== null && last.key === key && Object.is(last.start, start) && goesOn(memory.trials, seenOf(last.trials))
      ? last
      : { key, start, trials: [], states: initialStates(params, seed), incumbent: start };
  const byName = new Map(params.map((p) => [p.name, p]));
  for (let i = learned.trials.length; i < memory.trials.length; i++) {
    learned.incumbent = replayTrial(byName, learned.states, memory.trials[i]!, learned.incumbent);
  }
  if (memo !== undefined) memo.learned = { ...learned, trials: memory.trials };
  return learned.states;
}

function initialStates(params: readonly TunedParam[], seed: number): Map<string, ParamState> {
  return new Map(
    params.map((p) => [
      p.name,
      { step: INITIAL_STEP, dir: hashSeed(seed, p.name) % 2 === 0 ? 1 : -1, lastGood: null, failed: new Set(), credit: 0 },
    ]),
  );
}

/** One past trial's lesson, applied to `states`; returns the incumbent's metric after it. */
function replayTrial(byName: ReadonlyMap<string, TunedParam>, states: Map<string, ParamState>, trial: PastTrial, incumbent: number | null): number | null {
  for (const state of states.values()) state.credit *= 0.85;
  const success = trial.outcome === 'keep';
  // A tie says the step was too short to see a difference: go on the same way, further.
  const tie = trial.outcome === 'discard' && trial.metric !== null && trial.metric === incumbent;
  const after = success ? trial.metric : incumbent;
  if (!success && trial.outcome !== 'discard' && trial.outcome !== 'crash') return after;
  for (const change of trial.changes) {
    const param = byName.get(change.name)!;
    const state = states.get(change.name)!;
    const delta = toUnit(param, change.to) - toUnit(param, change.from) || change.to - change.from;
    if (delta === 0) continue;
    const dir: Direction = delta > 0 ? 1 : -1;
    if (tie) {
      state.dir = dir;
      state.step = Math.min(MAX_STEP, state.step * 2);
    } else if (success) {
      state.dir = dir;
      state.lastGood = dir;
      state.step = Math.min(MAX_STEP, state.step * 1.5);
      state.credit += 1;
    } else {
      // A joint move that failed counts against each of its parts, as in a (1+1)-ES: without
      // that a constant could keep the direction of an old success through many failures.
      state.failed.add(dir);
      state.dir = dir === 1 ? -1 : 1;
      if (state.failed.size === 2) {
        state.step = Math.max(MIN_STEP, state.step / 2);
        state.failed.clear();
        state.dir = state.lastGood ?? state.dir;
      }
    }
  }
  // The best point moved: what failed around the old one says little about the new one.
  if (success) for (const state of states.values()) state.failed.clear();
  return after;
}

/** What a memo that kept the list `read` read of it. */
const seenOf = <T,>(read: readonly T[]) => ({ seen: read.length, first: read[0], last: read.at(-1) });

const moveKey = (name: string, value: string) => `${name}\0${value}`;

function indexMoves(memory: TuningMemory, memo?: TuningMemo): Map<string, PastTrial[]> {
  const last = memo?.moves ?? null;
  const index = last !== null && goesOn(memory.trials, seenOf(last.trials)) ? last : { trials: [], byMove: new Map<string, PastTrial[]>() };
  for (let i = index.trials.length; i < memory.trials.length; i++) {
    const trial = memory.trials[i]!;
    for (const change of trial.changes) {
      const key = moveKey(change.name, String(change.to));
      const trials = index.byMove.get(key);
      if (trials === undefined) index.byMove.set(key, [trial]);
      else if (trials.at(-1) !== trial) trials.push(trial);
    }
  }
  if (memo !== undefined) memo.moves = { trials: memory.trials, byMove: index.byMove };
  return index.byMove;
}

/**
 * Whether a combination (a vectorKey) is one of the past trials' changes set on today's values.
 * Such a trial moved the first constant where the combination differs from today's values to
 * the combination's value there: only the trials with that move are checked. Today's values
 * are not found here: the memory's tried combinations hold them, and are asked first.
 */
function rebasedPoints(params: readonly TunedParam[], byMove: ReadonlyMap<string, readonly PastTrial[]>): { has(key: string): boolean } {
  const position = new Map(params.map((p, i) => [p.name, i]));
  const today = params.map((p) => String(p.value));
  return {
    has(key) {
      const parts = key.split('|');
      const d = parts.findIndex((part, i) => part !== today[i]);
      if (d === -1) return false;
      for (const trial of byMove.get(moveKey(params[d]!.name, parts[d]!)) ?? []) {
        const values = today.slice();
        for (const change of trial.changes) {
          const at = position.get(change.name);
          if (at !== undefined) values[at] = String(change.to);
        }
        if (values.join('|') === key) return true;
      }
      return false;
    },
  };
}

function chooseParams(
  params: readonly TunedParam[],
  states: Map<string, ParamState>,
  pending: PendingPoints,
  rng: Rng,
  maxChanges: number,
): TunedParam[] {
  const most = Math.min(Math.max(1, maxChanges), params.length);
  const count = most === 1 || rng() < SINGLE_CHANGE_ODDS ? 1 : 2 + Math.floor(rng() * (most - 1));
  // A constant already being moved by proposals in flight is picked less often, so N proposals
  // at once spread over the constants instead of piling onto the favourite.
  const busy = (p: TunedParam) => {
    const moves = pending.moves.get(p.name);
    return moves === undefined ? 0 : moves.up + moves.down;
  };
  const pool = params.map((p) => ({ param: p, weight: weightOf(states.get(p.name)!) / (1 + busy(p)) }));
  const chosen: TunedParam[] = [];
  while (chosen.length < count && pool.length > 0) {
    const total = pool.reduce((sum, entry) => sum + entry.weight, 0);
    let r = rng() * total;
    let index = pool.findIndex((entry) => (r -= entry.weight) < 0);
    if (index === -1) index = pool.length - 1;
    chosen.push(pool[index]!.param);
    pool.splice(index, 1);
  }
  return chosen;
}

/** Constants that helped lately, and ones with an untried direction, are picked more often. */
function weightOf(state: ParamState): number {
  const credit = 1 + 2 * state.credit;
  const room = 0.25 + 0.75 * Math.min(1, state.step / INITIAL_STEP);
  const pending = state.failed.size === 1 ? 1.5 : 1;
  return credit * room * pending;
}

function moveParam(
  param: TunedParam,
  state: ParamState,
  moves: PendingMoves | undefined,
  scale: number,
  rng: Rng,
): { change: TuningChange; why: string } | null {
  let dir: Direction = state.failed.has(state.dir) ? (state.dir === 1 ? -1 : 1) : state.dir;
  let why =
    state.failed.size === 1 ? 'the other direction did not help' : state.lastGood === dir ? 'this direction helped before' : 'trying this direction';
  let spread = 1;
  if (moves !== undefined) ({ dir, why, spread } = spreadFromPending(state, moves, dir, why));
  const u0 = toUnit(param, param.value);
  const size = state.step * scale * spread * (0.75 + 0.5 * rng());
  if ((dir === 1 && u0 >= 1) || (dir === -1 && u0 <= 0)) {
    dir = dir === 1 ? -1 : 1;
    why = 'at the end of its range';
  }
  let to = fromUnit(param, clampUnit(u0 + dir * size));
  if (param.int) {
    to = Math.round(to);
    // The smallest move of a whole number is 1; a rounded-away step would propose nothing.
    if (to === param.value) to = param.value + dir;
    if (to < param.low || to > param.high) return null;
  }
  const change = writtenChange(param, to);
  if (change === null) return null;
  const span = param.log ? 'log range' : 'range';
  return { change, why: `${dir === 1 ? 'up' : 'down'} ${Math.round(size * 100)}% of its ${span}; ${why}` };
}

// The k-th proposal in flight along one direction steps ×½, ×2, ×¼, ×4… of the usual size: a
// line search along the direction instead of k draws around the same point.
const SPREADS = [1, 0.5, 2, 0.25, 4, 0.125, 8];

/**
 * Where to go when proposals in flight already move this constant: an untried direction no one is
 * measuring comes first (both sides of the best get polled at once, as in a pattern search);
 * a direction that helped, or the only one left, is kept, with another step size.
 */
function spreadFromPending(state: ParamState, moves: PendingMoves, dir: Direction, why: string): { dir: Direction; why: string; spread: number } {
  const busy = (d: Direction) => (d === 1 ? moves.up : moves.down);
  const other: Direction = dir === 1 ? -1 : 1;
  if (busy(dir) === 0) return { dir, why, spread: 1 };
  if (busy(other) === 0 && !state.failed.has(other) && state.lastGood !== dir) {
    return { dir: other, why: 'the other direction is being measured now', spread: 1 };
  }
  const spread = SPREADS[Math.min(busy(dir), SPREADS.length - 1)]!;
  return { dir, why: `${why}; ${busy(dir)} other step(s) this way being measured now`, spread };
}
